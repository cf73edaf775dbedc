"""`tiergate replay` end to end: a real gateway on a socket, the simulator behind it over HTTP."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import httpx
import msgspec
import pytest

from adapters.simulator import LatencyModel, SimulatorCore
from app.cli import main
from app.container import Container
from infra.catalog_builder import build_catalog
from infra.settings import TenantSettings
from tests.support.gateway_server import (
    SIM_KEY_ENV,
    RunningGateway,
    running_gateway,
    settings_for_simulator,
)
from tests.support.simulator_server import RunningSimulator, running_simulator

KEYS = {"alpha": "sk-alpha", "beta": "sk-beta"}


def _ask(content: str) -> dict[str, object]:
    return {"model": "auto", "temperature": 0, "messages": [{"role": "user", "content": content}]}


WORKLOAD = [
    {"tenant": "alpha", "feature": "faq", **_ask("What is the capital of Peru?")},
    {"tenant": "alpha", "feature": "faq", "delay_ms": 5, **_ask("What is the capital of Peru?")},
    {"tenant": "alpha", "feature": "faq", **_ask("what is the capital of peru")},
    {
        "tenant": "beta",
        "feature": "notes",
        "stream": True,
        **_ask("Summarize these notes in two bullet points: launch slips a week; hiring is open."),
    },
    {
        "tenant": "beta",
        "feature": "notes",
        "stream": True,
        "stream_options": {"include_usage": True},
        **_ask("Summarize these notes in two bullet points: launch slips a week; hiring is open."),
    },
    {
        "tenant": "alpha",
        "feature": "codegen",
        **_ask("Write a Python function that merges overlapping intervals."),
        "temperature": 0.9,
    },
    {"tenant": "beta", "feature": "faq", **_ask("Who wrote Dune?"), "model": "no-such-model"},
    {
        "tenant": "beta",
        "api_key": KEYS["beta"],
        "feature": "legal",
        **_ask("Analyse the liability risks of this contract clause step by step: no cap."),
    },
]


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningSimulator]:
    catalog = build_catalog(settings_for_simulator("http://unused"))
    core = SimulatorCore(catalog=catalog, latency=LatencyModel.zero())
    with running_simulator(core) as running:
        yield running


@contextmanager
def fresh_gateway(simulator: RunningSimulator) -> Iterator[RunningGateway]:
    """A new gateway (empty cache and spend) in front of the shared simulator."""
    mp = pytest.MonkeyPatch()
    mp.setenv(SIM_KEY_ENV, "sk-upstream")
    settings = settings_for_simulator(simulator.base_url)
    tenants = [
        TenantSettings(
            name=name, key_sha256=[hashlib.sha256(key.encode()).hexdigest()], admin=name == "alpha"
        )
        for name, key in KEYS.items()
    ]
    governance = msgspec.structs.replace(settings.governance, tenants=tenants)
    settings = msgspec.structs.replace(settings, governance=governance)
    try:
        with running_gateway(Container(settings=settings)) as gateway:
            yield gateway
    finally:
        mp.undo()


@pytest.fixture
def workload(tmp_path: Path) -> Path:
    path = tmp_path / "small.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in WORKLOAD) + "\n\n", encoding="utf-8")
    return path


def _replay(
    gateway: RunningGateway,
    workload: Path,
    out: Path,
    seed: int,
    capsys: pytest.CaptureFixture[str],
) -> str:
    code = main(
        [
            "replay",
            str(workload),
            "--gateway",
            gateway.base_url,
            "--tenant-key",
            f"alpha={KEYS['alpha']}",
            "--tenant-key",
            f"beta={KEYS['beta']}",
            "--seed",
            str(seed),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return capsys.readouterr().out


def _value(printed: str, label: str) -> str:
    match = re.search(rf"^{label}\s+(.*)$", printed, re.MULTILINE)
    assert match, f"no {label!r} line in:\n{printed}"
    return match.group(1)


def _usd(printed: str, label: str) -> Decimal:
    return Decimal(_value(printed, label).split()[0].lstrip("$"))


def _reproducible(printed: str) -> list[str]:
    skip = ("replayed", "latency", "report")
    return [line for line in printed.splitlines() if not line.startswith(skip)]


def test_replay_prints_what_the_gateway_charged_and_writes_the_report(
    simulator: RunningSimulator, workload: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    html = tmp_path / "report.html"
    with fresh_gateway(simulator) as gateway:
        printed = _replay(gateway, workload, html, 5, capsys)
        spend = httpx.get(
            gateway.openai_base_url + "/spend",
            params={"group_by": "tenant"},
            headers={"authorization": f"Bearer {KEYS['alpha']}"},
        ).json()
    assert _value(printed, "answered") == "7"
    assert _value(printed, "errors").startswith("1  (404 model_not_found: 1)")
    cache = _value(printed, "cache")
    assert cache.startswith("hit rate 42.9%")
    assert "hit 2 " in cache and "semantic-hit 1 " in cache and "bypass 1 " in cache
    assert _usd(printed, "cost") == Decimal(spend["total"]["cost_usd"])
    assert _usd(printed, "baseline") == Decimal(spend["total"]["baseline_cost_usd"])
    assert _usd(printed, "saving") == Decimal(spend["total"]["savings_usd"])
    assert spend["total"]["requests"] == 7
    assert {row["group"]: row["requests"] for row in spend["data"]} == {"alpha": 4, "beta": 3}
    assert _usd(printed, "cost") > 0
    report = html.read_text(encoding="utf-8")
    assert report.count("<svg") == 2
    assert "<script" not in report and "src=" not in report and "href=" not in report
    assert _value(printed, "fingerprint").split()[0] in report


def test_the_same_seed_reproduces_every_number_but_latency(
    simulator: RunningSimulator, workload: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs: list[str] = []
    for seed in (5, 5, 6):
        with fresh_gateway(simulator) as gateway:
            runs.append(_replay(gateway, workload, tmp_path / f"r{len(runs)}.html", seed, capsys))
    first, again, other = runs
    assert _reproducible(first) == _reproducible(again)
    assert _value(first, "fingerprint") == _value(again, "fingerprint")
    assert _value(first, "fingerprint") != _value(other, "fingerprint")

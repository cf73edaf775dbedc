"""The autoscaling p99 queries, run by a real Prometheus against a real gateway under load.

Simulator, gateway and Prometheus are separate processes on loopback ports. Every upstream reply
takes exactly LATENCY_S (the fault book's fixed extra latency, no random latency), so the p99 of
total request time must fall in LATENCY_S's histogram bucket, while the p99 of gateway overhead
must stay far below it (it excludes the upstream wait). The queries are the exact expressions of
k8s/prometheus-adapter/recording-rules.yaml; the scrape adds the `namespace` and `pod` labels that
Kubernetes service discovery would.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.processes import free_port, serving_process

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "k8s/prometheus-adapter/recording-rules.yaml"
LATENCY_S = 0.6
BUCKET = (0.5, 0.75)  # the tiergate_request_duration_seconds bucket holding LATENCY_S
WORKERS = 8
LOAD_S = 15.0
MODEL = "Qwen/Qwen3-8B"
KEY_ENV = "TIERGATE_TEST_SIM_KEY"

pytestmark = pytest.mark.slow


def _rule(record: str) -> str:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return next(r["expr"] for g in groups for r in g["rules"] if r.get("record") == record)


def _simulator(port: int) -> list[str]:
    faults = {"models": {"*": {"extra_latency_s": LATENCY_S}}}
    return [sys.executable, "-m", "adapters.simulator", "--port", str(port),
            "--latency-scale", "0", "--faults", json.dumps(faults)]  # fmt: skip


def _gateway(tmp: Path, port: int, sim_port: int) -> list[str]:
    config = {
        "upstream_mode": "http",
        "upstreams": [
            {"name": "sim", "base_url": f"http://127.0.0.1:{sim_port}/v1", "api_key_env": KEY_ENV}
        ],
    }
    path = tmp / "tiergate.yaml"
    path.write_text(yaml.safe_dump(config))
    return [sys.executable, "-m", "app.cli", "serve", "--config", str(path), "--host",
            "127.0.0.1", "--port", str(port), "--workers", "1",
            "--log-level", "warning"]  # fmt: skip


def _prometheus(tmp: Path, port: int, target_port: int) -> list[str]:
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{
            "job_name": "tiergate",
            "static_configs": [{
                "targets": [f"127.0.0.1:{target_port}"],
                "labels": {"namespace": "tiergate-test", "pod": "tiergate-0"},
            }],
        }],
    }  # fmt: skip
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return [shutil.which("prometheus") or "prometheus", f"--config.file={path}",
            f"--storage.tsdb.path={tmp / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn"]  # fmt: skip


async def _load(base_url: str) -> list[int]:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Name a colour."}]}
    statuses: list[int] = []
    deadline = time.monotonic() + LOAD_S

    async def worker(client: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline:
            response = await client.post("/v1/chat/completions", json=body)
            statuses.append(response.status_code)

    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        await asyncio.gather(*(worker(client) for _ in range(WORKERS)))
    return statuses


def _query(prometheus: str, expr: str) -> list[float]:
    response = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=10)
    payload = response.json()
    assert payload["status"] == "success", payload
    return [float(sample["value"][1]) for sample in payload["data"]["result"]]


def test_adapter_p99_queries_agree_with_the_injected_latency(tmp_path: Path) -> None:
    if shutil.which("prometheus") is None:
        pytest.skip("no `prometheus` binary on PATH: run scripts/install_test_deps.sh")
    sim_port, gateway_port, prom_port = free_port(), free_port(), free_port()
    env = {**os.environ, KEY_ENV: "sk-test", "OTEL_TRACES_EXPORTER": "none"}
    gateway = f"http://127.0.0.1:{gateway_port}"
    prometheus = f"http://127.0.0.1:{prom_port}"
    with ExitStack() as stack:
        stack.enter_context(
            serving_process(
                _simulator(sim_port),
                f"http://127.0.0.1:{sim_port}/v1/models",
                cwd=ROOT,
                timeout_s=20,
            )
        )
        stack.enter_context(
            serving_process(
                _gateway(tmp_path, gateway_port, sim_port),
                gateway + "/healthz",
                env=env,
                cwd=ROOT,
                timeout_s=20,
            )
        )
        stack.enter_context(
            serving_process(
                _prometheus(tmp_path, prom_port, gateway_port),
                prometheus + "/-/ready",
                cwd=ROOT,
                timeout_s=20,
            )
        )
        statuses = asyncio.run(_load(gateway))
        time.sleep(2.5)  # let the last samples be scraped
        total = _query(prometheus, _rule("namespace:tiergate_request_duration_seconds:p99_rate2m"))
        overhead = _query(
            prometheus, _rule("namespace_pod:tiergate_gateway_overhead_seconds:p99_rate2m")
        )
        in_flight = _query(
            prometheus,
            f"max_over_time(({_rule('namespace_pod:tiergate_requests_in_flight:sum')})[30s:1s])",
        )

    assert set(statuses) == {200}
    assert len(statuses) >= WORKERS * LOAD_S / LATENCY_S * 0.8  # the load really ran
    (p99,) = total
    assert BUCKET[0] < p99 <= BUCKET[1], f"total p99 {p99} outside the bucket of {LATENCY_S}"
    (overhead_p99,) = overhead
    assert overhead_p99 < 0.1, f"gateway overhead p99 {overhead_p99} s: upstream wait not excluded?"
    (peak,) = in_flight
    assert WORKERS / 2 <= peak <= WORKERS

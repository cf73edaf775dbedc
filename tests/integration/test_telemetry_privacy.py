"""Credentials, prompts and completions never reach spans, metrics or logs (default settings).

A caller key and an upstream key are both in play, the prompt carries a canary, and the answer's
text is checked too; everything the gateway exported or logged is scanned for all of them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from adapters.simulator import LatencyModel, SimulatorCore
from app.container import Container
from infra.catalog_builder import build_catalog
from tests.support.gateway_server import SIM_KEY_ENV, running_gateway, settings_for_simulator
from tests.support.otlp_receiver import ReceivedSpan, otlp_receiver
from tests.support.simulator_server import running_simulator

CALLER_KEY = "sk-secret-XYZ"
UPSTREAM_KEY = "sk-upstream-SECRET-4242"
PROMPT_CANARY = "zebra-quokka-canary-7781"


def _span_text(span: ReceivedSpan) -> str:
    return json.dumps(
        [span.name, span.attributes, span.events, span.resource], default=str, sort_keys=True
    )


def _answers(responses: list[httpx.Response]) -> list[str]:
    """Long enough snippets of every answer's text to be unmistakable."""
    texts = [responses[0].json()["choices"][0]["message"]["content"]]
    deltas = [
        json.loads(line.removeprefix("data: "))["choices"]
        for line in responses[1].text.splitlines()
        if line.startswith("data: {")
    ]
    texts.append("".join(c["delta"].get("content") or "" for choices in deltas for c in choices))
    snippets = [text.strip()[:40] for text in texts]
    assert all(len(snippet) >= 20 for snippet in snippets), texts
    return snippets


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = record.__dict__.get("fields", "")
        self.lines.append(f"{record.name} {record.getMessage()} {fields} {record.exc_text or ''}")


@pytest.fixture
def logs() -> Iterator[_Collector]:
    """Every record at DEBUG and up, from any thread (the app replaces pytest's root handlers)."""
    collector = _Collector()
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(collector)
    yield collector
    root.removeHandler(collector)
    root.setLevel(level)


def test_no_secret_or_message_text_in_spans_metrics_or_logs(
    monkeypatch: pytest.MonkeyPatch, logs: _Collector
) -> None:
    monkeypatch.setenv(SIM_KEY_ENV, UPSTREAM_KEY)
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    settings = settings_for_simulator("http://unused")
    core = SimulatorCore(catalog=build_catalog(settings), latency=LatencyModel.zero())
    with otlp_receiver("grpc") as receiver, running_simulator(core) as simulator:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
        container = Container(settings=settings_for_simulator(simulator.base_url))
        with running_gateway(container) as gateway:
            logging.getLogger().addHandler(logs)  # again: starting the app reset the handlers
            messages = [{"role": "user", "content": f"Remember the word {PROMPT_CANARY}."}]
            responses = [
                httpx.post(
                    gateway.base_url + "/v1/chat/completions",
                    json={"model": "auto", "messages": messages, "stream": stream},
                    headers={"authorization": f"Bearer {CALLER_KEY}"},
                    timeout=10,
                )
                for stream in (False, True)
            ]
            assert [r.status_code for r in responses] == [200, 200]
            metrics_text = httpx.get(gateway.base_url + "/metrics").text
            last = httpx.get(simulator.base_url + "/_sim/last-request").json()
            container.tracer_provider().force_flush()  # type: ignore[attr-defined]
            spans = receiver.sink.wait_for(
                lambda spans: sum(s.kind == "CLIENT" for s in spans) >= 2
            )
    assert last["authorization_present"] is True  # the upstream key was really in use
    assert "tiergate_requests_total" in metrics_text
    assert any("/v1/chat/completions" in line for line in logs.lines)  # something was logged
    exported = {
        "spans": "\n".join(_span_text(span) for span in spans),
        "metrics": metrics_text,
        "logs": "\n".join(logs.lines),
    }
    for secret in (CALLER_KEY, UPSTREAM_KEY, PROMPT_CANARY, *_answers(responses)):
        for where, text in exported.items():
            assert secret not in text, f"{secret!r} leaked into {where}"

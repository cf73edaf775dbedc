"""Traces leave the gateway over OTLP (gRPC and HTTP/protobuf) with the spans operators rely on.

The gateway runs under uvicorn on a loopback port with the exporter configured only through the
standard OTEL_* variables, in front of the simulator over HTTP; spans arrive at a receiver
built on opentelemetry-proto.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from adapters.simulator import LatencyModel, SimulatorCore
from app.container import Container
from infra.catalog_builder import build_catalog
from tests.support.gateway_server import (
    SIM_KEY_ENV,
    RunningGateway,
    running_gateway,
    settings_for_simulator,
)
from tests.support.otlp_receiver import OtlpReceiver, ReceivedSpan, otlp_receiver
from tests.support.simulator_server import RunningSimulator, running_simulator

MODEL = "Qwen/Qwen3-8B"
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
OTHER_OTEL_SETTINGS = (
    "OTEL_SERVICE_NAME",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_TRACES_SAMPLER",
    "OTEL_SDK_DISABLED",
)


@dataclass(frozen=True, slots=True)
class Traced:
    gateway: RunningGateway
    simulator: RunningSimulator
    receiver: OtlpReceiver

    def trace_of(self, request_id: str) -> tuple[ReceivedSpan, list[ReceivedSpan]]:
        """The request's SERVER span and its children, once they have been exported."""
        provider = self.gateway.container.tracer_provider()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            provider.force_flush()  # type: ignore[attr-defined]
            spans = list(self.receiver.sink.spans)
            server = [
                s for s in spans
                if s.kind == "SERVER" and s.attributes.get("tiergate.request_id") == request_id
            ]  # fmt: skip
            if server:
                return server[0], [s for s in spans if s.parent_span_id == server[0].span_id]
            time.sleep(0.02)
        raise AssertionError(f"no SERVER span for {request_id}: {self.receiver.sink.spans}")


@pytest.fixture(params=["grpc", "http/protobuf"])
def traced(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Traced]:
    for name in OTHER_OTEL_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(SIM_KEY_ENV, "sk-upstream-test")
    settings = settings_for_simulator("http://unused")
    core = SimulatorCore(catalog=build_catalog(settings), latency=LatencyModel.zero())
    with otlp_receiver(request.param) as receiver, running_simulator(core) as simulator:
        monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", receiver.protocol)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
        container = Container(settings=settings_for_simulator(simulator.base_url))
        with running_gateway(container) as gateway:
            yield Traced(gateway, simulator, receiver)


def chat(traced: Traced, *, stream: bool) -> httpx.Response:
    request: dict[str, object] = {
        "model": MODEL, "messages": [{"role": "user", "content": "Say something short."}],
    }  # fmt: skip
    if stream:
        request |= {"stream": True, "stream_options": {"include_usage": True}}
    response = httpx.post(
        traced.gateway.base_url + "/v1/chat/completions", json=request,
        headers={"traceparent": TRACEPARENT}, timeout=10,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response


def assert_server_span(span: ReceivedSpan, response: httpx.Response) -> None:
    assert span.name == "POST /v1/chat/completions"
    assert span.trace_id == CALLER_TRACE  # the caller's trace continues through the gateway
    assert span.parent_span_id == CALLER_SPAN
    assert span.resource["service.name"] == "tiergate"
    headers = response.headers
    assert span.attributes["http.response.status_code"] == 200
    assert span.attributes["tiergate.route"] == headers["x-tiergate-route"]
    assert span.attributes["tiergate.tier"] == headers["x-tiergate-tier"]
    assert span.attributes["tiergate.model"] == MODEL
    assert span.attributes["tiergate.cache"] == headers["x-tiergate-cache"]
    assert span.attributes["tiergate.attempts"] == 1
    assert span.attributes["tiergate.cost_usd"] > 0


def assert_client_span(span: ReceivedSpan, server: ReceivedSpan, usage: dict[str, int]) -> None:
    assert span.name == f"chat {MODEL}"
    assert span.kind == "CLIENT"
    assert span.trace_id == CALLER_TRACE
    assert span.status == "UNSET"
    attributes = span.attributes
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "primary"  # the configured upstream's name
    assert attributes["gen_ai.request.model"] == MODEL
    assert attributes["gen_ai.response.model"] == MODEL
    assert attributes["gen_ai.usage.input_tokens"] == usage["prompt_tokens"] > 0
    assert attributes["gen_ai.usage.output_tokens"] == usage["completion_tokens"] > 0
    assert attributes["gen_ai.response.finish_reasons"] == ["stop"]
    assert attributes["tiergate.attempt"] == 1
    assert attributes["tiergate.fallback"] is False
    assert attributes["tiergate.cost_usd"] == pytest.approx(server.attributes["tiergate.cost_usd"])


def assert_upstream_continued(traced: Traced, client: ReceivedSpan) -> None:
    last = httpx.get(traced.simulator.base_url + "/_sim/last-request").json()
    version, trace_id, parent_id, _flags = last["headers"]["traceparent"].split("-")
    assert (version, trace_id, parent_id) == ("00", CALLER_TRACE, client.span_id)


def test_completion_is_traced_end_to_end(traced: Traced) -> None:
    response = chat(traced, stream=False)
    server, children = traced.trace_of(response.headers["x-tiergate-request-id"])
    assert_server_span(server, response)
    (client,) = children
    assert_client_span(client, server, response.json()["usage"])
    assert server.attributes["tiergate.cost_usd"] == pytest.approx(
        float(response.headers["x-tiergate-cost-usd"])
    )
    assert_upstream_continued(traced, client)


def test_stream_is_traced_with_the_usage_of_its_final_chunk(traced: Traced) -> None:
    response = chat(traced, stream=True)
    payloads = [
        json.loads(line.removeprefix("data: "))
        for line in response.text.splitlines()
        if line.startswith("data: {")
    ]
    usage = next(p["usage"] for p in payloads if p.get("usage"))
    server, children = traced.trace_of(response.headers["x-tiergate-request-id"])
    assert_server_span(server, response)
    (client,) = children
    assert_client_span(client, server, usage)
    assert server.attributes["tiergate.cost_usd"] == pytest.approx(usage["cost"])
    assert_upstream_continued(traced, client)

"""The chat path under TelemetryChatObserver: a CLIENT span per attempt, its trace context sent
upstream, and the retry, fallback, attempt and billing metrics."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, StatusCode, TraceFlags
from prometheus_client.parser import text_string_to_metric_families

from app.call_context import CallContext
from app.observability.chat_observer import TelemetryChatObserver
from app.services.chat import ChatService
from app.services.executor import PlanExecutor
from app.services.results import ChatReply, ChatStream
from domain.errors import UpstreamHTTPError
from domain.ports import UpstreamCall
from domain.pricing import Usage, price
from domain.retry_policy import RetryBudget, RetryPolicy
from domain.route_plan import RoutePlan
from infra.metrics import GatewayMetrics
from tests.fakes import FakeUpstream, completion_body
from tests.unit.routing_fixtures import bundled

MODEL = "Qwen/Qwen3-8B"


@dataclass
class Harness:
    upstream: FakeUpstream
    service: ChatService
    spans: InMemorySpanExporter
    metrics: GatewayMetrics
    provider: SdkTracerProvider

    def client_spans(self) -> list[ReadableSpan]:
        return [s for s in self.spans.get_finished_spans() if s.kind is SpanKind.CLIENT]

    def metric(self, name: str, **labels: str) -> float:
        text = self.metrics.exposition().decode()
        found = [
            s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.name == name and s.labels == labels
        ]
        return found[0] if found else 0.0


@pytest.fixture
def harness() -> Iterator[Harness]:
    catalog, policy = bundled()
    baseline = catalog.find("gpt-4o")
    assert baseline is not None
    exporter = InMemorySpanExporter()
    provider = SdkTracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    metrics = GatewayMetrics(
        models=[m.id for m in catalog], routes=["auto", *policy.routes], upstreams=["fake"]
    )
    observer = TelemetryChatObserver(metrics=metrics, tracer_provider=provider)
    upstream = FakeUpstream("fake")
    executor = PlanExecutor(
        upstream=upstream, retry_policy=RetryPolicy(base_delay_s=0.0), retry_budget=RetryBudget(),
        observer=observer,
    )  # fmt: skip
    service = ChatService(
        catalog=catalog, policy=policy, baseline=baseline, executor=executor, observer=observer
    )
    yield Harness(upstream, service, exporter, metrics, provider)
    provider.shutdown()


def assert_has(span: ReadableSpan, expected: dict[str, object]) -> None:
    attributes = dict(span.attributes or {})
    assert {key: attributes.get(key) for key in expected} == expected


def body(*, stream: bool = False) -> bytes:
    request = {"model": MODEL, "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
    return json.dumps(request).encode()


def context() -> CallContext:
    return CallContext(
        request_id="req-1", tenant="t", cache_scope="t", feature="f", deadline=time.monotonic() + 30
    )


async def test_retried_attempts_are_client_spans_under_the_server_span(harness: Harness) -> None:
    harness.upstream.then(UpstreamHTTPError("busy", status=503, upstream="fake"))
    tracer = harness.provider.get_tracer("test")
    with tracer.start_as_current_span("POST /v1/chat/completions", kind=SpanKind.SERVER) as server:
        reply = await harness.service.handle(body(), context())
    assert isinstance(reply, ChatReply)

    failed, answered = harness.client_spans()
    server_context = server.get_span_context()
    for span in (failed, answered):
        assert span.name == f"chat {MODEL}"
        assert span.parent is not None
        assert span.parent.span_id == server_context.span_id
        assert span.context.trace_id == server_context.trace_id
        assert span.attributes is not None
        assert span.attributes["gen_ai.operation.name"] == "chat"
        assert span.attributes["gen_ai.request.model"] == MODEL
    assert failed.status.status_code is StatusCode.ERROR
    assert_has(failed, {"error.type": "http_5xx", "tiergate.attempt": 1})
    assert answered.status.status_code is StatusCode.UNSET
    model = next(m for m in bundled()[0] if m.id == MODEL)
    assert_has(answered, {
        "tiergate.attempt": 2,
        "tiergate.fallback": False,
        "gen_ai.provider.name": "fake",
        "gen_ai.response.model": MODEL,
        "gen_ai.usage.input_tokens": 5,
        "gen_ai.usage.output_tokens": 1,
        "gen_ai.response.finish_reasons": ("stop",),
        "tiergate.cost_usd": float(price(model, Usage(5, 1))),
    })  # fmt: skip

    # Each upstream call carries the context of its own CLIENT span, not the caller's.
    for call, span in zip(harness.upstream.calls, (failed, answered), strict=True):
        headers = dict(call.call.headers)
        ids = span.context
        assert headers["traceparent"] == (
            f"00-{ids.trace_id:032x}-{ids.span_id:016x}-{ids.trace_flags:02x}"
        )

    server_attributes = harness.spans.get_finished_spans()[-1].attributes or {}
    assert server_attributes["tiergate.request_id"] == "req-1"
    assert server_attributes["tiergate.attempts"] == 2
    cache = reply.headers["x-tiergate-cache"]  # "bypass" until there is a response cache
    assert server_attributes["tiergate.cache"] == cache
    assert server_attributes["tiergate.cost_usd"] == pytest.approx(float(price(model, Usage(5, 1))))

    assert harness.metric("tiergate_retries_total", reason="http_5xx") == 1
    attempts = "tiergate_upstream_attempts_total"
    assert harness.metric(attempts, upstream="fake", model=MODEL, outcome="http_5xx") == 1
    assert harness.metric(attempts, upstream="fake", model=MODEL, outcome="ok") == 1
    tokens = "tiergate_tokens_total"
    assert harness.metric(tokens, direction="input", model=MODEL, route="pinned") == 5
    assert harness.metric(tokens, direction="output", model=MODEL, route="pinned") == 1
    assert harness.metric("tiergate_cache_lookups_total", result=cache.replace("-", "_")) == 1


async def test_fallback_is_counted_with_its_reason_and_marked_on_the_span(harness: Harness) -> None:
    harness.upstream.then(UpstreamHTTPError("no such model", status=404, upstream="fake"))
    reply = await harness.service.handle(body(), context())
    assert isinstance(reply, ChatReply)
    first, second = harness.client_spans()
    assert first.attributes is not None
    assert second.attributes is not None
    assert first.attributes["tiergate.fallback"] is False
    assert second.attributes["tiergate.fallback"] is True
    assert second.attributes["gen_ai.request.model"] != MODEL
    assert harness.metric("tiergate_fallbacks_total", reason="http_4xx") == 1
    assert harness.metric("tiergate_retries_total", reason="http_4xx") == 0


async def test_a_stream_span_lasts_until_the_stream_ends(harness: Harness) -> None:
    stream = await harness.service.handle(body(stream=True), context())
    assert isinstance(stream, ChatStream)
    assert harness.client_spans() == []  # open, content seen, but not over yet
    events = [event async for event in stream.events]
    assert events[-1] == b"data: [DONE]\n\n"
    (span,) = harness.client_spans()
    assert span.attributes is not None
    assert span.attributes["gen_ai.usage.input_tokens"] == 5
    assert span.attributes["gen_ai.usage.output_tokens"] == 1
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert span.attributes["gen_ai.response.model"] == MODEL
    assert (
        harness.metric("tiergate_tokens_total", direction="input", model=MODEL, route="pinned") == 5
    )


async def test_a_stream_the_client_abandons_ends_its_span_as_cancelled(harness: Harness) -> None:
    stream = await harness.service.handle(body(stream=True), context())
    assert isinstance(stream, ChatStream)
    events = stream.events
    await anext(events)
    await events.aclose()  # type: ignore[attr-defined]
    (span,) = harness.client_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == "cancelled"
    attempts = "tiergate_upstream_attempts_total"
    assert harness.metric(attempts, upstream="fake", model=MODEL, outcome="cancelled") == 1


async def test_without_an_observer_nothing_is_traced_and_no_trace_header_is_invented() -> None:
    catalog, policy = bundled()
    upstream = FakeUpstream("fake")
    executor = PlanExecutor(
        upstream=upstream, retry_policy=RetryPolicy(), retry_budget=RetryBudget()
    )
    baseline = next(iter(catalog))
    service = ChatService(catalog=catalog, policy=policy, baseline=baseline, executor=executor)
    reply = await service.handle(body(), context())
    assert isinstance(reply, ChatReply)
    assert json.loads(reply.body)["model"] == MODEL
    assert upstream.calls[0].call.headers == ()
    assert completion_body(MODEL) == reply.body


@pytest.mark.parametrize("caller_sampled", [True, False, None])
def test_with_tracing_off_only_a_callers_trace_context_goes_upstream(
    caller_sampled: bool | None,
) -> None:
    """The shipped default traces nothing, but a caller's traceparent still reaches the upstream
    (its trace continues there); without one, no header is made up."""
    catalog, _ = bundled()
    metrics = GatewayMetrics(models=[MODEL], routes=["auto"], upstreams=["fake"])
    observer = TelemetryChatObserver(metrics=metrics, tracer_provider=trace.NoOpTracerProvider())
    model = next(m for m in catalog if m.id == MODEL)
    plan = RoutePlan(route="auto", tier="economy", rule="auto", reason="r", candidates=())
    call = UpstreamCall(model=MODEL, body=b"{}", timeout_s=1.0)
    if caller_sampled is None:
        watch = observer.attempt(model, plan, position=0, number=1)
        assert watch.traced(call) == call
        return
    flags = TraceFlags(TraceFlags.SAMPLED if caller_sampled else TraceFlags.DEFAULT)
    caller = SpanContext(trace_id=0xABC, span_id=0xDEF, is_remote=True, trace_flags=flags)
    with trace.use_span(NonRecordingSpan(caller)):
        watch = observer.attempt(model, plan, position=0, number=1)
    sent = dict(watch.traced(call).headers)
    assert sent["traceparent"] == f"00-{0xABC:032x}-{0xDEF:016x}-{int(flags):02x}"

"""RequestTelemetryMiddleware: a SERVER span and the request metrics around every API call.

Pure ASGI, a few clock reads and dict lookups per request. It continues the caller's W3C trace
context, counts the request in flight, and when the response (or the stream) has ended records
duration, gateway overhead (duration minus the upstream waits the executor reported), time to
first chunk for event streams, and the outcome. Probes, /metrics, /admin and the schema pages are
not measured: they are not traffic, and Prometheus scrapes would skew the histograms.
"""

from __future__ import annotations

from time import perf_counter

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send
from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from app.observability import attributes as attr
from app.observability.request_record import close_record, open_record
from infra.metrics import GatewayMetrics

STATE_KEY = "http_telemetry"  # where the lifespan puts the HttpTelemetry on `app.state`

_ENDPOINTS = {
    "/v1/chat/completions": "chat",
    "/v1/embeddings": "embeddings",
    "/v1/models": "models",
    "/v1/route": "route",
    "/v1/spend": "spend",
    "/v1/feedback": "feedback",
}
_UNMEASURED = frozenset({"/healthz", "/readyz", "/metrics"})
_TRACE_HEADERS = frozenset({b"traceparent", b"tracestate"})
_propagator = TraceContextTextMapPropagator()


class HttpTelemetry:
    """What the middleware records into: a tracer for SERVER spans, and the gateway metrics."""

    def __init__(
        self, *, metrics: GatewayMetrics, tracer_provider: TracerProvider | None = None
    ) -> None:
        self.metrics = metrics
        self.tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)


class _Response:
    """Wraps `send` to see the status, whether it is an event stream, and its first chunk."""

    __slots__ = ("first_chunk_at", "send_to_client", "status", "stream")

    def __init__(self, send: Send) -> None:
        self.send_to_client = send
        self.status = 500  # if the app fails without answering, the server did
        self.stream = False
        self.first_chunk_at: float | None = None

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.stream = any(
                name == b"content-type" and value.startswith(b"text/event-stream")
                for name, value in message.get("headers", ())
            )
        elif self.stream and self.first_chunk_at is None and message.get("body"):
            self.first_chunk_at = perf_counter()
        await self.send_to_client(message)


class RequestTelemetryMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        telemetry = scope["litestar_app"].state.get(STATE_KEY)
        template = scope.get("path_template") or scope["path"]
        if telemetry is None or _unmeasured(template):
            await self.app(scope, receive, send)
            return
        await measured(telemetry, template, self.app, scope, receive, send)


async def measured(
    telemetry: HttpTelemetry,
    template: str,
    app: ASGIApp,
    scope: HTTPScope,
    receive: Receive,
    send: Send,
) -> None:
    """Serve one request through `app` inside a SERVER span, and record its metrics."""
    endpoint = _ENDPOINTS.get(template, "other")
    method = scope["method"]
    started = perf_counter()
    span = telemetry.tracer.start_span(
        f"{method} {template}",
        context=_caller_context(scope),
        kind=SpanKind.SERVER,
        attributes={
            attr.HTTP_REQUEST_METHOD: method, attr.HTTP_ROUTE: template,
            attr.URL_PATH: scope["path"],
        },
    )  # fmt: skip
    # An invalid span (tracing off, no caller trace) is what the context holds anyway.
    traced = span.get_span_context().is_valid
    span_token = context.attach(trace.set_span_in_context(span)) if traced else None
    record, record_token = open_record()
    response = _Response(send)
    metrics = telemetry.metrics
    metrics.in_flight.inc()
    try:
        await app(scope, receive, response.send)
    finally:
        ended = perf_counter()
        metrics.in_flight.dec()
        close_record(record_token)
        if span_token is not None:
            context.detach(span_token)
        first_chunk_at = response.first_chunk_at
        metrics.request_finished(
            endpoint=endpoint,
            stream=response.stream,
            status=response.status,
            route=record.route,
            model=record.model,
            total_s=ended - started,
            upstream_s=record.upstream_wait_s,
            first_chunk_s=None if first_chunk_at is None else first_chunk_at - started,
        )
        span.set_attribute(attr.HTTP_RESPONSE_STATUS_CODE, response.status)
        if response.status >= 500:
            span.set_attribute(attr.ERROR_TYPE, str(response.status))
            span.set_status(Status(StatusCode.ERROR))
        span.end()


def _unmeasured(template: str) -> bool:
    return template in _UNMEASURED or template.startswith(("/schema", "/admin"))


def _caller_context(scope: Scope) -> Context | None:
    """The caller's W3C trace context, if it sent one (a new trace otherwise)."""
    carrier = {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in scope["headers"]
        if name in _TRACE_HEADERS
    }
    return _propagator.extract(carrier) if carrier else None

"""TelemetryChatObserver: a CLIENT span per upstream attempt, SERVER span attributes, metrics."""

from __future__ import annotations

from dataclasses import replace

import msgspec
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from app.call_context import CallContext
from app.observability import attributes as attr
from app.observability.failures import failure_label
from app.observability.observer import AttemptWatch, RequestWatch
from app.observability.request_record import RequestRecord, current_record
from app.response_headers import CallReport
from app.services.attempts import AttemptLog
from domain.catalog import Model
from domain.errors import UpstreamError
from domain.ports import UpstreamCall
from domain.pricing import Usage, price
from domain.route_plan import RoutePlan
from infra.metrics import PINNED, GatewayMetrics

# Only traceparent/tracestate go upstream: a caller's baggage is not the upstream's business.
_propagator = TraceContextTextMapPropagator()


class _ModelField(msgspec.Struct):
    model: str | None = None


_model_decoder = msgspec.json.Decoder(_ModelField)


class TelemetryChatObserver:
    """`ChatObserver` over the OpenTelemetry API and `GatewayMetrics`.

    Spans hold model ids, token counts, costs and outcomes; never message text or credentials.
    """

    def __init__(
        self, *, metrics: GatewayMetrics, tracer_provider: TracerProvider | None = None
    ) -> None:
        self._metrics = metrics
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)

    def request(self, ctx: CallContext, plan: RoutePlan) -> RequestWatch:
        route = PINNED if plan.pinned else plan.route
        record = current_record()
        if record is not None:
            record.route = route
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attributes({
                attr.REQUEST_ID: ctx.request_id, attr.ROUTE: plan.route, attr.TIER: plan.tier,
                attr.REASON: plan.reason,
            })  # fmt: skip
        return _RequestSpan(self._metrics, span, record, route)

    def attempt(self, model: Model, plan: RoutePlan, *, position: int, number: int) -> AttemptWatch:
        span = self._tracer.start_span(
            f"chat {model.id}",
            kind=SpanKind.CLIENT,
            attributes={
                attr.GEN_AI_OPERATION_NAME: attr.CHAT_OPERATION,
                attr.GEN_AI_REQUEST_MODEL: model.id,
                attr.ROUTE: plan.route,
                attr.TIER: plan.tier,
                attr.ATTEMPT: number,
                attr.FALLBACK: position > 0,
            },
        )
        return _AttemptSpan(self._metrics, span, model)

    def retrying(self, error: UpstreamError) -> None:
        self._metrics.retried(failure_label(error))

    def falling_back(self, error: UpstreamError | None) -> None:
        self._metrics.fell_back("escalated" if error is None else failure_label(error))


class _AttemptSpan:
    __slots__ = ("_ended", "_metrics", "_model", "_span", "_upstream")

    def __init__(self, metrics: GatewayMetrics, span: Span, model: Model) -> None:
        self._metrics = metrics
        self._span = span
        self._model = model
        self._upstream: str | None = None
        self._ended = False

    def traced(self, call: UpstreamCall) -> UpstreamCall:
        if not self._span.get_span_context().is_valid:
            return call  # no trace to continue: tracing is off and the caller sent none
        carrier: dict[str, str] = {}
        _propagator.inject(carrier, context=trace.set_span_in_context(self._span))
        return replace(call, headers=(*call.headers, *carrier.items())) if carrier else call

    def answered(
        self,
        upstream: str | None,
        usage: Usage,
        finish_reason: str | None,
        payload: bytes | None = None,
    ) -> None:
        self._upstream = upstream
        if not self._span.is_recording():
            return
        attributes: dict[str, AttributeValue] = {
            attr.GEN_AI_USAGE_INPUT_TOKENS: usage.input_tokens,
            attr.GEN_AI_USAGE_OUTPUT_TOKENS: usage.output_tokens,
            attr.COST_USD: float(price(self._model, usage)),
        }
        if upstream:
            attributes[attr.GEN_AI_PROVIDER_NAME] = upstream
        if finish_reason:
            attributes[attr.GEN_AI_RESPONSE_FINISH_REASONS] = (finish_reason,)
        if payload and (response_model := _response_model(payload)):
            attributes[attr.GEN_AI_RESPONSE_MODEL] = response_model
        self._span.set_attributes(attributes)

    def end(self, error: BaseException | None = None) -> None:
        if self._ended:
            return
        self._ended = True
        upstream = self._upstream
        outcome = "ok"
        if error is not None:
            outcome = failure_label(error)
            upstream = getattr(error, "upstream", None) or upstream
            if self._span.is_recording():
                if upstream:
                    self._span.set_attribute(attr.GEN_AI_PROVIDER_NAME, upstream)
                self._span.set_attribute(attr.ERROR_TYPE, outcome)
                self._span.set_status(Status(StatusCode.ERROR, outcome))
        self._metrics.attempt_finished(upstream=upstream, model=self._model.id, outcome=outcome)
        self._span.end()


class _RequestSpan:
    __slots__ = ("_metrics", "_record", "_route", "_settled", "_span")

    def __init__(
        self, metrics: GatewayMetrics, span: Span, record: RequestRecord | None, route: str
    ) -> None:
        self._metrics = metrics
        self._span = span
        self._record = record
        self._route = route
        self._settled = False

    def settled(self, log: AttemptLog, report: CallReport | None) -> None:
        if self._settled:
            return
        self._settled = True
        metrics, route = self._metrics, self._route
        for attempt in log.attempts:
            metrics.billed(
                model=attempt.model,
                route=route,
                input_tokens=attempt.usage.input_tokens,
                output_tokens=attempt.usage.output_tokens,
                cost_usd=attempt.cost.usd,
            )
        for embedding in log.embeddings:
            metrics.billed(
                model=embedding.model,
                route=route,
                input_tokens=embedding.usage.input_tokens,
                output_tokens=0,
                cost_usd=embedding.cost.usd,
            )
        total = log.total_cost
        if report is not None:
            metrics.answered(
                model=report.model,
                route=route,
                baseline_usd=total.baseline_usd,
                cache=report.cache,
            )
            if self._record is not None:
                self._record.model = report.model
        if not self._span.is_recording():
            return
        attributes: dict[str, AttributeValue] = {
            attr.COST_USD: float(total.usd),
            attr.ATTEMPTS: log.count,
        }
        if report is not None:
            attributes[attr.MODEL] = report.model
            attributes[attr.BASELINE_COST_USD] = float(total.baseline_usd)
            attributes[attr.CACHE] = report.cache
            attributes[attr.FALLBACK] = report.fallback
        self._span.set_attributes(attributes)


def _response_model(payload: bytes) -> str | None:
    try:
        return _model_decoder.decode(payload).model
    except msgspec.DecodeError:
        return None

"""The chat completions use case: plan a route, execute it, price every attempt, report."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable

from app import sse
from app.call_context import CallContext
from app.completions import decode_chunk, to_usage
from app.forwarding import RawFields, parse_chat_request, upstream_body
from app.observability.observer import SILENT, ChatObserver, RequestWatch
from app.prompt_shape import prompt_shape
from app.response_headers import CallReport, cost_headers, report_headers
from app.schemas import ChatCompletionRequest, ChunkView
from app.services.attempts import AttemptLog
from app.services.executor import Judge, OpenedStream, PlanExecutor
from app.services.results import ChatReply, ChatStream
from app.sse_replay import replay_as_sse
from domain.acceptance import judge_answer
from domain.catalog import Catalog, Model
from domain.errors import StreamInterrupted, UpstreamError
from domain.features import RequestFeatures, extract_features
from domain.ports import UpstreamCall
from domain.pricing import Usage
from domain.route_plan import Candidate, RoutePlan
from domain.router import plan_route
from domain.routing_policy import RoutingPolicy


class ChatService:
    def __init__(
        self,
        *,
        catalog: Catalog,
        policy: RoutingPolicy,
        baseline: Model,
        executor: PlanExecutor,
        clock: Callable[[], float] = time.monotonic,
        observer: ChatObserver = SILENT,
    ) -> None:
        self._catalog = catalog
        self._policy = policy
        self._keywords = policy.keywords
        self._baseline = baseline
        self._executor = executor
        self._clock = clock
        self._observer = observer

    def plan(self, body: bytes, ctx: CallContext) -> tuple[RoutePlan, RequestFeatures]:
        request, _ = parse_chat_request(body)
        return self._plan(request, ctx)

    async def handle(self, body: bytes, ctx: CallContext) -> ChatReply | ChatStream:
        request, raw_fields = parse_chat_request(body)
        plan, features = self._plan(request, ctx)
        watch = self._observer.request(ctx, plan)
        log = AttemptLog(baseline=self._baseline)
        build = self._call_builder(raw_fields, stream=request.stream and not plan.cascade)
        try:
            if request.stream and not plan.cascade:
                opened = await self._executor.open_stream(plan, build, log, deadline=ctx.deadline)
                # The open stream is logged only when it ends: count it as an attempt now.
                report = self._report(
                    ctx, plan, opened.candidate, opened.position, log, in_flight=1
                )
                return ChatStream(
                    events=self._relay(opened, request, log, features.input_tokens, watch, report),
                    headers=report_headers(report),
                )
            judge = self._judge(request) if plan.cascade else None
            answer = await self._executor.complete(
                plan, build, log, deadline=ctx.deadline, judge=judge
            )
        except BaseException:
            watch.settled(log, None)
            raise
        report = self._report(ctx, plan, answer.candidate, answer.position, log)
        watch.settled(log, report)
        headers = report_headers(report) | cost_headers(log.total_cost)
        if request.stream:
            events = _iterate(
                replay_as_sse(
                    answer.body, include_usage=request.wants_usage_chunk, cost=log.total_cost
                )
            )
            return ChatStream(events=events, headers=headers)
        return ChatReply(body=answer.body, headers=headers)

    def _plan(
        self, request: ChatCompletionRequest, ctx: CallContext
    ) -> tuple[RoutePlan, RequestFeatures]:
        shape = prompt_shape(request, tier_header=ctx.tier_hint)
        features = extract_features(shape, keywords=self._keywords)
        plan = plan_route(
            request.model, features, self._catalog, self._policy, allow_fallback=ctx.allow_fallback
        )
        return plan, features

    def _call_builder(
        self, raw_fields: RawFields, *, stream: bool
    ) -> Callable[[Candidate, float], UpstreamCall]:
        # No trace headers here: the executor's observer adds the context of each attempt's span.
        def build(candidate: Candidate, timeout_s: float) -> UpstreamCall:
            body = upstream_body(
                raw_fields,
                model_id=candidate.model.id,
                stream=stream,
                output_limit=candidate.output_limit,
            )
            return UpstreamCall(model=candidate.model.id, body=body, timeout_s=timeout_s)

        return build

    @staticmethod
    def _judge(request: ChatCompletionRequest) -> Judge:
        wants_json = request.response_format is not None and request.response_format.type != "text"
        return lambda summary: judge_answer(summary, wants_json=wants_json)

    def _report(
        self,
        ctx: CallContext,
        plan: RoutePlan,
        candidate: Candidate,
        position: int,
        log: AttemptLog,
        *,
        in_flight: int = 0,
    ) -> CallReport:
        degraded = "tier" if candidate.degraded else None
        return CallReport(
            request_id=ctx.request_id,
            model=candidate.model.id,
            route=plan.route,
            tier=plan.tier,
            reason=plan.reason,
            attempts=max(log.count + in_flight, 1),
            fallback=position > 0,
            degraded=degraded,
        )

    async def _relay(
        self,
        opened: OpenedStream,
        request: ChatCompletionRequest,
        log: AttemptLog,
        estimated_input: int,
        watch: RequestWatch,
        report: CallReport,
    ) -> AsyncIterator[bytes]:
        tally = opened.tally
        model = opened.candidate.model
        outcome = "ok"
        failure: BaseException | None = None
        try:
            for payload in opened.buffered:
                if out := self._outgoing(payload, decode_chunk(payload), request, log, model):
                    yield out
            async for payload in opened.events:
                chunk = decode_chunk(payload)
                tally.add(chunk)
                if out := self._outgoing(payload, chunk, request, log, model):
                    yield out
            yield sse.DONE
        except UpstreamError as exc:
            outcome = exc.code
            failure = exc
            interrupted = StreamInterrupted(f"The upstream stream failed mid-way: {exc.message}")
            yield sse.error_event(
                interrupted.message, error_type="server_error", code=interrupted.code
            )
        except BaseException as exc:  # the client went away: cancelled, or the generator closed
            failure = exc
            raise
        finally:
            await opened.stream.aclose()
            # A cut stream has no usage chunk; bill what we can see rather than nothing.
            seen = Usage(input_tokens=estimated_input, output_tokens=tally.text_chars // 4)
            usage = tally.usage or seen
            log.add(model, opened.stream.upstream, outcome, usage)
            first = opened.buffered[0] if opened.buffered else None
            opened.attempt.answered(opened.stream.upstream, usage, tally.finish_reason, first)
            opened.attempt.end(failure)
            watch.settled(log, report)

    def _outgoing(
        self,
        payload: bytes,
        chunk: ChunkView,
        request: ChatCompletionRequest,
        log: AttemptLog,
        model: Model,
    ) -> bytes | None:
        if chunk.usage is None or chunk.choices:
            return sse.event(payload)
        if not request.wants_usage_chunk:
            return None
        return sse.event(sse.with_cost(payload, log.cost_with(model, to_usage(chunk.usage))))


async def _iterate(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk

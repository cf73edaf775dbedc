"""The chat completions use case: plan a route, execute it, price every attempt, report."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass

from msgspec import Raw

from app import sse
from app.call_context import CallContext
from app.completions import DecodedChunk, summarize_completion, to_usage
from app.forwarding import RawFields, parse_chat_request, upstream_body
from app.observability.observer import SILENT, ChatObserver, RequestWatch
from app.prompt_shape import prompt_shape
from app.response_headers import CallReport, cost_headers, report_headers
from app.schemas import ChatCompletionRequest, ChunkView
from app.services.admission_gate import AdmissionGate, CallLedger
from app.services.answer_cache import AnswerCache, CacheHit, CacheLookup, EmbeddingSpend
from app.services.attempts import AttemptLog
from app.services.evaluator_sampling import EvaluatorSampler
from app.services.executor import Judge, OpenedStream, PlanExecutor
from app.services.results import ChatReply, ChatStream
from app.services.route_memo import Routed, RouteMemo
from app.sse_replay import replay_as_sse
from app.stream_capture import StreamCapture
from domain.acceptance import judge_answer
from domain.cache_policy import CacheDecision, CacheKeyPolicy, CacheRequest
from domain.catalog import Catalog, Model
from domain.errors import StreamInterrupted, UpstreamError
from domain.features import RequestFeatures, extract_features
from domain.ports import CachedAnswer, UpstreamCall
from domain.pricing import Cost, Usage
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
        cache_policy: CacheKeyPolicy | None = None,
        answer_cache: AnswerCache | None = None,
        gate: AdmissionGate | None = None,
        evaluator: EvaluatorSampler | None = None,
        route_memo: RouteMemo | None = None,
    ) -> None:
        self._catalog = catalog
        self._policy = policy
        self._keywords = policy.keywords
        self._baseline = baseline
        self._executor = executor
        self._clock = clock
        self._observer = observer
        self._cache_policy = cache_policy
        self._answer_cache = answer_cache
        self._gate = gate
        self._evaluator = evaluator
        self._memo = route_memo if route_memo is not None else RouteMemo()

    def plan(self, body: bytes, ctx: CallContext) -> tuple[RoutePlan, RequestFeatures]:
        request, _ = parse_chat_request(body)
        return self._plan(request, ctx)

    async def handle(self, body: bytes, ctx: CallContext) -> ChatReply | ChatStream:
        request, raw_fields = parse_chat_request(body)
        routed = self._route(body, request, raw_fields, ctx)
        admitted = None
        if self._gate is not None:
            admitted = await self._gate.admit(
                ctx,
                routed.plan,
                routed.features,
                lambda: self._economy_plan(request, routed.features, ctx),
            )
            routed = self._admitted(routed, admitted.plan, raw_fields, ctx)
        log = AttemptLog(baseline=self._baseline)
        model = routed.plan.primary.model.id
        ledger = CallLedger(log=log, model=model, gate=self._gate, call=admitted)
        try:
            outcome = await self._respond(request, raw_fields, ctx, routed, ledger)
        finally:
            if not ledger.deferred:
                await ledger.close()
        if admitted is not None and self._gate is not None:
            await self._gate.remember(ctx, admitted, ledger.model)
            outcome.headers.update(admitted.admission.rate_limit_headers)
            if admitted.admission.downgrade_to_economy:
                outcome.headers["x-tiergate-degraded"] = admitted.admission.reason or "budget"
        return outcome

    def _route(
        self, body: bytes, request: ChatCompletionRequest, raw_fields: RawFields, ctx: CallContext
    ) -> Routed:
        """The plan and cache decision: remembered for a byte-identical cacheable repeat."""
        if not self._may_cache(request):  # no decision to make, nothing worth remembering
            plan, features = self._plan(request, ctx)
            return Routed(plan, features, None)
        key = self._memo.key(body, ctx)
        if (routed := self._memo.get(key)) is not None:
            return routed
        plan, features = self._plan(request, ctx)
        routed = Routed(plan, features, self._cache_decision(raw_fields, plan, ctx))
        self._memo.remember(key, routed)
        return routed

    def _admitted(
        self, routed: Routed, plan: RoutePlan, raw_fields: RawFields, ctx: CallContext
    ) -> Routed:
        """Routed with the plan admission settled on; the cache key depends on route and tier."""
        unchanged = (plan.route, plan.tier) == (routed.plan.route, routed.plan.tier)
        if unchanged or routed.decision is None:
            return Routed(plan, routed.features, routed.decision)
        return Routed(plan, routed.features, self._cache_decision(raw_fields, plan, ctx))

    async def _respond(
        self,
        request: ChatCompletionRequest,
        raw_fields: RawFields,
        ctx: CallContext,
        routed: Routed,
        ledger: CallLedger,
    ) -> ChatReply | ChatStream:
        plan, features, decision = routed.plan, routed.features, routed.decision
        watch = self._observer.request(ctx, plan)
        lookup = await self._lookup(decision)
        ledger.log.add_embedding(lookup.spend)
        if lookup.hit is not None:
            return self._serve_hit(lookup.hit, request, ctx, plan, watch, ledger)
        cache_state = "miss" if decision is not None and decision.lookup else "bypass"
        log = ledger.log
        build = self._call_builder(raw_fields, stream=request.stream and not plan.cascade)
        try:
            if request.stream and not plan.cascade:
                opened = await self._executor.open_stream(plan, build, log, deadline=ctx.deadline)
                ledger.model, ledger.deferred = opened.candidate.model.id, True
                # The open stream is logged only when it ends: count it as an attempt now.
                report = self._report(
                    ctx,
                    plan,
                    opened.candidate,
                    opened.position,
                    log,
                    in_flight=1,
                    cache=cache_state,
                )
                keep = _Keep(
                    storing=_Storing(decision, lookup, plan)
                    if decision and decision.store
                    else None,
                    sample=self._stream_sample(ctx, plan, raw_fields),
                )
                return ChatStream(
                    events=self._relay(
                        opened, request, features.input_tokens, watch, report, keep, ledger
                    ),
                    headers=report_headers(report),
                )
            judge = self._judge(request) if plan.cascade else None
            answer = await self._executor.complete(
                plan, build, log, deadline=ctx.deadline, judge=judge
            )
        except BaseException:
            watch.settled(log, None)
            raise
        ledger.model = answer.candidate.model.id
        report = self._report(ctx, plan, answer.candidate, answer.position, log, cache=cache_state)
        try:
            if decision is not None and decision.store:
                storing = _Storing(decision, lookup, plan)
                log.add_embedding(await self._store(storing, answer.body, answer.candidate.model))
        finally:  # after storing, whose embedding is billed too; also if a hang-up cancels it
            watch.settled(log, report)
        if self._evaluator is not None:  # maybe scored later, in the background
            self._evaluator.offer(
                tenant=ctx.tenant,
                route=plan.route,
                model=answer.candidate.model.id,
                messages=raw_fields.get("messages"),
                answer=answer.body,
            )
        headers = report_headers(report) | cost_headers(log.total_cost)
        if request.stream:
            events = self._replay(answer.body, request, log.total_cost)
            return ChatStream(events=events, headers=headers)
        return ChatReply(body=answer.body, headers=headers)

    def _economy_plan(
        self, request: ChatCompletionRequest, features: RequestFeatures, ctx: CallContext
    ) -> RoutePlan:
        return plan_route(
            "economy", features, self._catalog, self._policy, allow_fallback=ctx.allow_fallback
        )

    def _may_cache(self, request: ChatCompletionRequest) -> bool:
        policy = self._cache_policy
        return (
            policy is not None
            and self._answer_cache is not None
            and policy.may_cache(temperature=request.temperature, n=request.n)
        )

    def _cache_decision(
        self, raw_fields: RawFields, plan: RoutePlan, ctx: CallContext
    ) -> CacheDecision | None:
        if self._cache_policy is None or self._answer_cache is None:
            return None
        fields = {name: bytes(raw) for name, raw in raw_fields.items()}
        cache_request = CacheRequest.of(tenant=ctx.cache_scope, route=plan.route, fields=fields)
        return self._cache_policy.decide(cache_request, tier=plan.tier, directives=ctx.cache)

    async def _lookup(self, decision: CacheDecision | None) -> CacheLookup:
        if decision is None or self._answer_cache is None:
            return CacheLookup()
        return await self._answer_cache.lookup(decision)

    def _serve_hit(
        self,
        hit: CacheHit,
        request: ChatCompletionRequest,
        ctx: CallContext,
        plan: RoutePlan,
        watch: RequestWatch,
        ledger: CallLedger,
    ) -> ChatReply | ChatStream:
        answer = hit.answer
        # A hit costs nothing upstream but a semantic lookup's embedding; the baseline is what
        # the same answer would have cost there.
        ledger.log.answered_from_cache(
            Usage(input_tokens=answer.input_tokens, output_tokens=answer.output_tokens)
        )
        cost = ledger.log.total_cost
        ledger.model = answer.model
        report = CallReport(
            request_id=ctx.request_id,
            model=answer.model,
            route=plan.route,
            tier=plan.tier,
            reason=f"{plan.reason}; served from cache ({hit.kind})",
            attempts=0,
            cache=hit.kind,
        )
        watch.settled(ledger.log, report)
        headers = report_headers(report) | cost_headers(cost)
        if request.stream:
            return ChatStream(events=self._replay(answer.body, request, cost), headers=headers)
        return ChatReply(body=answer.body, headers=headers)

    async def _store(self, storing: _Storing, body: bytes, model: Model) -> EmbeddingSpend | None:
        if self._answer_cache is None:
            return None
        summary = summarize_completion(body)
        answer = CachedAnswer(
            body=body,
            model=model.id,
            route=storing.plan.route,
            tier=storing.plan.tier,
            stored_at=self._answer_cache.now(),
            input_tokens=summary.usage.input_tokens,
            output_tokens=summary.usage.output_tokens,
        )
        return await self._answer_cache.store(storing.decision, storing.lookup, answer)

    @staticmethod
    def _replay(
        body: bytes, request: ChatCompletionRequest, cost: Cost
    ) -> AsyncGenerator[bytes, None]:
        return _once(replay_as_sse(body, include_usage=request.wants_usage_chunk, cost=cost))

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
        cache: str = "bypass",
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
            cache=cache,
        )

    async def _relay(
        self,
        opened: OpenedStream,
        request: ChatCompletionRequest,
        estimated_input: int,
        watch: RequestWatch,
        report: CallReport,
        keep: _Keep,
        ledger: CallLedger,
    ) -> AsyncGenerator[bytes, None]:
        log = ledger.log
        tally = opened.tally
        capture = StreamCapture() if keep.storing or keep.sample else None
        model = opened.candidate.model
        outcome = "ok"
        failure: BaseException | None = None

        def relayed(chunks: list[DecodedChunk]) -> bytes:
            """Events that arrived together leave together: one write to the client."""
            out = []
            for payload, chunk in chunks:
                if capture is not None:
                    capture.add(payload)
                if chunk.usage is None or chunk.choices:
                    out.append(payload)
                elif usage_payload := self._usage_payload(payload, chunk, request, log, model):
                    out.append(usage_payload)
            return sse.events(out)

        try:
            # Events leave as they arrive, but the last ones (read with [DONE]) wait to leave
            # with the stream's end, in one write.
            last = relayed(opened.buffered)  # decoded and tallied by the executor
            if not opened.stream.ended:
                yield last  # even if empty: a ChatStream's first write is ready at once
                last = b""
            async for batch in opened.events:  # once [DONE] is read, this ends at once
                out = relayed(tally.read(batch))
                if opened.stream.ended:
                    last = out
                elif out:
                    yield out
            # Only a stream that completed is stored (before [DONE], so the client's next
            # identical request can already hit) or scored.
            completed = capture.completion_body() if capture is not None else None
            if completed is not None:
                if last:  # storing can take a while (an embedding, a Redis write): not the answer
                    yield last
                    last = b""
                log.add_embedding(await self._keep(keep, completed, model))
            yield last + sse.DONE
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
            first = opened.buffered[0][0] if opened.buffered else None
            opened.attempt.answered(opened.stream.upstream, usage, tally.finish_reason, first)
            opened.attempt.end(failure)
            watch.settled(log, report)
            await ledger.close()

    def _stream_sample(self, ctx: CallContext, plan: RoutePlan, raw: RawFields) -> _Sample | None:
        messages = raw.get("messages")
        if self._evaluator is None or messages is None or not self._evaluator.draws():
            return None
        return _Sample(tenant=ctx.tenant, route=plan.route, messages=messages)

    async def _keep(self, keep: _Keep, completed: bytes, model: Model) -> EmbeddingSpend | None:
        """Store and/or sample a completed stream; returns what storing spent on embedding."""
        spend = None
        if keep.storing is not None:
            spend = await self._store(keep.storing, completed, model)
        if keep.sample is not None and self._evaluator is not None:
            sample = keep.sample
            self._evaluator.submit(
                tenant=sample.tenant,
                route=sample.route,
                model=model.id,
                messages=sample.messages,
                answer=completed,
            )
        return spend

    @staticmethod
    def _usage_payload(
        payload: bytes,
        chunk: ChunkView,
        request: ChatCompletionRequest,
        log: AttemptLog,
        model: Model,
    ) -> bytes | None:
        """The final usage-only chunk, with its cost, if the caller asked for one."""
        if not request.wants_usage_chunk:
            return None
        return sse.with_cost(payload, log.cost_with(model, to_usage(chunk.usage)))


@dataclass(frozen=True, slots=True)
class _Sample:
    """A streamed answer drawn for evaluator scoring."""

    tenant: str
    route: str
    messages: Raw


@dataclass(frozen=True, slots=True)
class _Keep:
    """What happens to a stream's answer once it completed: cached, scored, both or neither."""

    storing: _Storing | None
    sample: _Sample | None


@dataclass(frozen=True, slots=True)
class _Storing:
    """What a successful answer needs to be cached."""

    decision: CacheDecision
    lookup: CacheLookup
    plan: RoutePlan


async def _once(events: bytes) -> AsyncGenerator[bytes, None]:
    yield events

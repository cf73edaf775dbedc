"""PlanExecutor: run a RoutePlan's candidates with retries, fallback and cascade escalation."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from app.completions import DecodedChunk, StreamTally, summarize_completion
from app.observability.observer import SILENT, AttemptWatch, ChatObserver
from app.observability.request_record import awaiting_upstream, upstream_events
from app.services.attempts import AttemptLog
from domain.acceptance import Verdict
from domain.completion import CompletionSummary, is_empty_completion
from domain.errors import (
    EmptyCompletion,
    NoCandidateAvailable,
    UpstreamError,
    UpstreamTimeout,
)
from domain.ports import ChatUpstream, UpstreamCall, UpstreamReply, UpstreamStream
from domain.pricing import Usage
from domain.retry_policy import RetryBudget, RetryPolicy
from domain.route_plan import Candidate, RoutePlan

CallBuilder = Callable[[Candidate, float], UpstreamCall]
Judge = Callable[[CompletionSummary], Verdict]


@dataclass(frozen=True, slots=True)
class Answer:
    body: bytes
    candidate: Candidate
    position: int  # index of the answering candidate in the plan: > 0 means a fallback


@dataclass(slots=True)
class OpenedStream:
    """A stream that has shown content (or finished): safe to commit the client to it."""

    stream: UpstreamStream
    events: AsyncIterator[list[bytes]]  # the rest of the stream, after `buffered`
    candidate: Candidate
    position: int
    buffered: list[DecodedChunk]  # read while checking for content, not yet sent
    tally: StreamTally
    attempt: AttemptWatch  # the relay ends it when the stream ends


class PlanExecutor:
    def __init__(
        self,
        *,
        upstream: ChatUpstream,
        retry_policy: RetryPolicy,
        retry_budget: RetryBudget,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        observer: ChatObserver = SILENT,
    ) -> None:
        self._upstream = upstream
        self._policy = retry_policy
        self._budget = retry_budget
        self._clock = clock
        self._rng = rng or random.Random()
        self._observer = observer

    async def complete(
        self,
        plan: RoutePlan,
        build: CallBuilder,
        log: AttemptLog,
        *,
        deadline: float,
        judge: Judge | None = None,
    ) -> Answer:
        self._budget.record_request(self._clock())
        failures: list[UpstreamError] = []  # why each candidate given up on failed
        why: UpstreamError | None = None  # what sent us to the next candidate; None: escalation
        for position, candidate in enumerate(plan.candidates):
            if position > 0:
                if not self._budget.try_spend(self._clock()):
                    break
                self._observer.falling_back(why)
            try:
                reply, summary = await self._complete_with_retries(
                    candidate, plan, position, build, log, deadline
                )
            except UpstreamError as exc:
                if not exc.other_model_may_serve:
                    raise
                failures.append(exc)
                why = exc
                continue
            escalate = judge is not None and position < len(plan.candidates) - 1
            verdict = judge(summary) if escalate and judge else None
            if verdict is not None and not verdict.accepted:
                outcome = f"escalated:{verdict.reason}"
                log.add(candidate.model, reply.upstream, outcome, summary.usage)
                why = None
                continue
            log.add(candidate.model, reply.upstream, "ok", summary.usage)
            return Answer(body=reply.body, candidate=candidate, position=position)
        raise self._exhausted(plan, failures, deadline)

    async def open_stream(
        self, plan: RoutePlan, build: CallBuilder, log: AttemptLog, *, deadline: float
    ) -> OpenedStream:
        """Fail over freely until a candidate's stream shows its first content."""
        self._budget.record_request(self._clock())
        failures: list[UpstreamError] = []
        for position, candidate in enumerate(plan.candidates):
            if position > 0:
                if not self._budget.try_spend(self._clock()):
                    break
                self._observer.falling_back(failures[-1] if failures else None)
            try:
                return await self._stream_with_retries(
                    candidate, plan, position, build, log, deadline
                )
            except UpstreamError as exc:
                if not exc.other_model_may_serve:
                    raise
                failures.append(exc)
        raise self._exhausted(plan, failures, deadline)

    async def _complete_with_retries(
        self,
        candidate: Candidate,
        plan: RoutePlan,
        position: int,
        build: CallBuilder,
        log: AttemptLog,
        deadline: float,
    ) -> tuple[UpstreamReply, CompletionSummary]:
        attempt = 1
        while True:
            watch = self._observer.attempt(candidate.model, plan, position=position, number=attempt)
            try:
                call = watch.traced(build(candidate, self._remaining(deadline)))
                reply = await awaiting_upstream(self._upstream.complete(call))
                summary = summarize_completion(reply.body)
                watch.answered(reply.upstream, summary.usage, summary.finish_reason, reply.body)
                if is_empty_completion(summary):
                    log.add(candidate.model, reply.upstream, "empty", summary.usage)
                    raise EmptyCompletion(f"{candidate.model.id} returned an empty completion")
                watch.end()
                return reply, summary
            except BaseException as exc:
                watch.end(exc)
                if isinstance(exc, EmptyCompletion) or not isinstance(exc, UpstreamError):
                    raise
                log.add(candidate.model, exc.upstream, exc.code, Usage())
                await self._pause_or_raise(exc, attempt, deadline)
                attempt += 1

    async def _stream_with_retries(
        self,
        candidate: Candidate,
        plan: RoutePlan,
        position: int,
        build: CallBuilder,
        log: AttemptLog,
        deadline: float,
    ) -> OpenedStream:
        attempt = 1
        while True:
            watch = self._observer.attempt(candidate.model, plan, position=position, number=attempt)
            try:
                call = watch.traced(build(candidate, self._remaining(deadline)))
                stream = await awaiting_upstream(self._upstream.open_stream(call))
            except BaseException as exc:
                watch.end(exc)
                if not isinstance(exc, UpstreamError):
                    raise
                log.add(candidate.model, exc.upstream, exc.code, Usage())
                await self._pause_or_raise(exc, attempt, deadline)
                attempt += 1
                continue
            return await self._read_to_first_content(stream, candidate, position, log, watch)

    async def _read_to_first_content(
        self,
        stream: UpstreamStream,
        candidate: Candidate,
        position: int,
        log: AttemptLog,
        watch: AttemptWatch,
    ) -> OpenedStream:
        tally = StreamTally()
        buffered: list[DecodedChunk] = []
        events = upstream_events(aiter(stream.events()))
        try:
            async for batch in events:
                buffered.extend(tally.read(batch))
                if tally.has_content:
                    return OpenedStream(stream, events, candidate, position, buffered, tally, watch)
        except UpstreamError as exc:
            await stream.aclose()
            log.add(candidate.model, stream.upstream, exc.code, tally.usage or Usage())
            watch.end(exc)
            raise
        except BaseException as exc:
            await stream.aclose()
            watch.end(exc)
            raise
        if tally.finish_reason not in (None, "stop"):
            return OpenedStream(stream, events, candidate, position, buffered, tally, watch)
        await stream.aclose()
        log.add(candidate.model, stream.upstream, "empty", tally.usage or Usage())
        failure = EmptyCompletion(f"{candidate.model.id} streamed an empty completion")
        watch.answered(stream.upstream, tally.usage or Usage(), tally.finish_reason)
        watch.end(failure)
        raise failure

    async def _pause_or_raise(self, exc: UpstreamError, attempt: int, deadline: float) -> None:
        delay = self._policy.delay_s(
            attempt, random_fraction=self._rng.random(), retry_after_s=exc.retry_after_s
        )
        retry = self._policy.should_retry(
            attempt, exc, remaining_s=self._remaining(deadline), delay_s=delay
        )
        if not exc.other_model_may_serve or not retry or not self._budget.try_spend(self._clock()):
            raise exc
        self._observer.retrying(exc)
        # The pause is the upstream's doing (it failed or asked for it), not gateway overhead.
        await awaiting_upstream(asyncio.sleep(delay))

    def _remaining(self, deadline: float) -> float:
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise UpstreamTimeout("the request deadline passed before an upstream answered")
        return remaining

    def _exhausted(
        self, plan: RoutePlan, failures: list[UpstreamError], deadline: float
    ) -> Exception:
        last_error = failures[-1] if failures else None
        if last_error is not None and not last_error.other_model_may_serve:
            return last_error
        if failures and all(failure.judges_the_request for failure in failures):
            # Every candidate tried refused the request itself (too long for each window, say):
            # relay that verdict rather than "no candidate, try again later".
            return failures[-1]
        if self._clock() >= deadline:
            return UpstreamTimeout("the request deadline passed before any candidate answered")
        tried = ", ".join(candidate.model.id for candidate in plan.candidates)
        detail = f": last error: {last_error.message}" if last_error else ""
        return NoCandidateAvailable(f"No candidate could answer ({tried}){detail}")

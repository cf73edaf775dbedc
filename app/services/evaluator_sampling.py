"""Evaluator sampling: a fraction of answers scored by an evaluator model, in the background.

The caller never waits: `offer` only decides and starts a task. Each task asks the evaluator
model (through the same upstream) for a 1-10 score, records the call's cost as the tenant's
spend under feature `evaluator`, and adds the score, scaled to [0, 1], to the rolling quality
of the (route, model) that answered, as caller feedback does. Failures are counted and logged,
never raised.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from app.completions import summarize_completion
from app.services.governance import GovernanceService
from app.transcript import answer_text, conversation_text
from domain.catalog import Model
from domain.completion import CompletionSummary
from domain.judging import brief_for, parse_score, quality_of
from domain.ports import ChatUpstream, UpstreamCall
from domain.pricing import cost_of

EVALUATOR_FEATURE = "evaluator"
EVALUATOR_ROUTE = "evaluator"  # the route evaluator spend is recorded under
_JUDGE_MAX_TOKENS = 64

logger = logging.getLogger(__name__)
_encoder = msgspec.json.Encoder()


@dataclass(slots=True)
class EvaluatorStats:
    sampled: int = 0
    scored: int = 0
    unparsed: int = 0  # the evaluator answered without a usable score
    failed: int = 0
    skipped: int = 0  # sampled while `max_in_flight` evaluations were already running


@dataclass(frozen=True, slots=True)
class _Case:
    tenant: str
    route: str
    model: str
    messages: bytes
    answer: bytes


class EvaluatorSampler:
    """Scores `rate` of the answers offered to it with `model`, at most `max_in_flight` at once."""

    def __init__(
        self,
        *,
        upstream: ChatUpstream,
        governance: GovernanceService,
        model: Model,
        baseline: Model,
        rate: float,
        max_in_flight: int = 8,
        timeout_s: float = 30.0,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.model = model
        self.rate = rate
        self.stats = EvaluatorStats()
        self._upstream = upstream
        self._governance = governance
        self._baseline = baseline
        self._max_in_flight = max_in_flight
        self._timeout_s = timeout_s
        self._draw = draw
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._failing = False

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def offer(
        self,
        *,
        tenant: str,
        route: str,
        model: str,
        messages: bytes | msgspec.Raw | None,
        answer: bytes,
    ) -> bool:
        """Maybe start scoring this answer in the background; True when it was sampled."""
        if messages is None or not self.draws():
            return False
        self.submit(tenant=tenant, route=route, model=model, messages=messages, answer=answer)
        return True

    def draws(self) -> bool:
        """Whether the next answer is sampled. A stream draws before it starts, so that only
        the streams that will be scored are captured whole."""
        if self._closed or self.rate <= 0 or self._draw() >= self.rate:
            return False
        if len(self._tasks) >= self._max_in_flight:
            self.stats.skipped += 1
            return False
        return True

    def submit(
        self, *, tenant: str, route: str, model: str, messages: bytes | msgspec.Raw, answer: bytes
    ) -> None:
        """Score this drawn answer in the background."""
        if self._closed:
            return
        self.stats.sampled += 1
        case = _Case(tenant, route, model, bytes(messages), answer)
        task = asyncio.create_task(self._evaluate(case), name="tiergate-evaluator")
        self._tasks.add(task)  # referenced until done, so the loop cannot drop it
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the evaluations running now (tests, orderly shutdown)."""
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        """Stop sampling and cancel the evaluations still running."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _evaluate(self, case: _Case) -> None:
        try:
            verdict = await self._ask(case)
            tenant = self._governance.tenant_named(case.tenant)
            await self._governance.record_own_call(
                tenant,
                EVALUATOR_FEATURE,
                cost=cost_of(self.model, verdict.usage, baseline=self._baseline),
                usage=verdict.usage,
                route=EVALUATOR_ROUTE,
                model=self.model.id,
            )
            score = parse_score(verdict.text)
            if score is None:
                self.stats.unparsed += 1
                return
            await self._governance.feedback.add_sample(case.route, case.model, quality_of(score))
            self.stats.scored += 1
            self._recovered()
        except Exception as exc:  # never reaches a caller: the answer has long been sent
            self.stats.failed += 1
            self._failed(case, exc)

    async def _ask(self, case: _Case) -> CompletionSummary:
        brief = brief_for(conversation_text(case.messages), answer_text(case.answer))
        body = _encoder.encode(
            {
                "model": self.model.id,
                "messages": brief.messages(),
                "temperature": 0,
                "max_tokens": _JUDGE_MAX_TOKENS,
            }
        )
        call = UpstreamCall(model=self.model.id, body=body, timeout_s=self._timeout_s)
        async with asyncio.timeout(self._timeout_s):
            reply = await self._upstream.complete(call)
        return summarize_completion(reply.body)

    def _failed(self, case: _Case, exc: Exception) -> None:
        if not self._failing:
            self._failing = True
            logger.warning(
                "evaluator: scoring %s on route %s failed (%s: %s); failures are skipped",
                case.model,
                case.route,
                type(exc).__name__,
                exc,
            )

    def _recovered(self) -> None:
        if self._failing:
            self._failing = False
            logger.info("evaluator: scoring works again")

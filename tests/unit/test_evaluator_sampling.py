"""Evaluator sampling with fakes: scores join the quality, cost is spend, failures drop."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from decimal import Decimal

import pytest

from adapters.memory_limiter import MemoryRateLimiter
from adapters.memory_quality_store import MemoryQualityStore
from adapters.memory_spend_store import MemorySpendStore
from app.services.evaluator_sampling import EVALUATOR_FEATURE, EvaluatorSampler
from app.services.governance import GovernanceService
from domain.catalog import Model
from domain.errors import UpstreamConnectionError
from domain.quality import QualityRule
from domain.tenants import OPEN_TENANT, TenantDirectory
from tests.fakes import FakeUpstream, completion_body

JUDGE = Model(
    id="judge/strong", family="judge", price_in=Decimal("2"), price_out=Decimal("8"),
    context_window=32_000, max_output=4_000,
)  # fmt: skip
MESSAGES = json.dumps([{"role": "user", "content": "What is 2 + 2?"}]).encode()
ANSWER = completion_body("cheap/model", content="4")


def governance() -> GovernanceService:
    return GovernanceService(
        directory=TenantDirectory.of([]),
        spend=MemorySpendStore(),
        limiter=MemoryRateLimiter(),
        quality=MemoryQualityStore(),
        quality_rule=QualityRule(window=10, min_samples=2),
    )


def sampler(
    upstream: FakeUpstream,
    gov: GovernanceService,
    *,
    rate: float = 1.0,
    max_in_flight: int = 8,
    draw: Callable[[], float] = random.random,
) -> EvaluatorSampler:
    return EvaluatorSampler(
        upstream=upstream,
        governance=gov,
        model=JUDGE,
        baseline=JUDGE,
        rate=rate,
        max_in_flight=max_in_flight,
        draw=draw,
    )


def offer(evaluator: EvaluatorSampler, model: str = "cheap/model") -> bool:
    return evaluator.offer(
        tenant=OPEN_TENANT.name, route="economy", model=model, messages=MESSAGES, answer=ANSWER
    )


async def test_a_sampled_answer_is_scored_and_the_score_joins_the_rolling_quality() -> None:
    gov = governance()
    upstream = FakeUpstream(script=[completion_body(JUDGE.id, content='{"score": 8}')])
    evaluator = sampler(upstream, gov)
    assert offer(evaluator)
    await evaluator.drain()
    [entry] = await gov.quality_view()
    assert (entry.route, entry.model, entry.stat.samples) == ("economy", "cheap/model", 1)
    assert entry.stat.mean == pytest.approx(7 / 9)
    [call] = upstream.calls
    sent = json.loads(call.call.body)
    assert call.model == JUDGE.id and sent["temperature"] == 0
    assert "What is 2 + 2?" in sent["messages"][1]["content"]
    assert "\n4" in sent["messages"][1]["content"]
    report = await gov.spend_report(OPEN_TENANT, "feature", None, None)
    [group] = report.groups
    assert group.key == EVALUATOR_FEATURE
    assert group.totals.requests == 1
    assert group.totals.cost_usd == Decimal("0.0000180000")  # 5 in at $2/M + 1 out at $8/M
    assert evaluator.stats.scored == 1


async def test_rate_zero_never_calls_the_evaluator() -> None:
    upstream = FakeUpstream()
    evaluator = sampler(upstream, governance(), rate=0.0)
    assert not any(offer(evaluator) for _ in range(50))
    assert upstream.calls == []


async def test_the_rate_is_a_fraction_of_the_answers() -> None:
    draws = iter([0.05, 0.5, 0.09, 0.95])
    evaluator = sampler(FakeUpstream(), governance(), rate=0.1, draw=lambda: next(draws))
    assert [offer(evaluator) for _ in range(4)] == [True, False, True, False]
    await evaluator.drain()


async def test_a_failing_or_unreadable_evaluator_changes_nothing() -> None:
    gov = governance()
    upstream = FakeUpstream(
        script=[UpstreamConnectionError("down"), completion_body(JUDGE.id, content="fine")]
    )
    evaluator = sampler(upstream, gov)
    assert offer(evaluator) and offer(evaluator)
    await evaluator.drain()
    assert await gov.quality_view() == []
    assert (evaluator.stats.failed, evaluator.stats.unparsed) == (1, 1)
    report = await gov.spend_report(OPEN_TENANT, "feature", None, None)
    assert report.total.requests == 1  # the unreadable answer was still paid for


async def test_evaluations_in_flight_are_bounded_and_cancelled_on_close() -> None:
    gate = asyncio.Event()
    upstream = FakeUpstream(gate=gate)
    evaluator = sampler(upstream, governance(), max_in_flight=2)
    assert offer(evaluator) and offer(evaluator)
    assert not offer(evaluator)
    assert evaluator.stats.skipped == 1
    await asyncio.sleep(0)
    assert evaluator.in_flight == 2
    await evaluator.aclose()
    assert evaluator.in_flight == 0
    assert not offer(evaluator)  # closed


async def test_enough_low_scores_demote_the_model_from_the_route() -> None:
    gov = governance()
    replies = [completion_body(JUDGE.id, content="Score: 2/10") for _ in range(2)]
    evaluator = sampler(FakeUpstream(script=replies), gov)
    offer(evaluator)
    offer(evaluator)
    await evaluator.drain()
    assert await gov.feedback.demoted_models("economy") == frozenset({"cheap/model"})

"""Budget decisions: soft limits downgrade, hard limits reject, the max-cost cap does either."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.memory_spend_store import MemorySpendStore
from domain.budgets import (
    Balance,
    Budget,
    BudgetDecision,
    CostQuote,
    SpendLimit,
    Verdict,
    budget_lines,
    decide_budget,
    fits_hard_limits,
    parse_max_cost,
)
from domain.errors import InvalidRequest
from domain.ledger import SpendRecord, from_units, to_units
from domain.pricing import Cost, Usage
from domain.spend_windows import Period

NOW = datetime(2025, 3, 14, 18, 0, tzinfo=UTC).timestamp()  # 6 h before the day ends
DAILY = Budget(daily=SpendLimit(soft_usd=Decimal("8"), hard_usd=Decimal("10")))
QUOTE = CostQuote(planned_usd=Decimal("0.50"), economy_usd=Decimal("0.05"))


def decide(
    spent_usd: str,
    *,
    budget: Budget = DAILY,
    quote: CostQuote = QUOTE,
    max_cost: str | None = None,
    reserved_usd: str = "0",
) -> BudgetDecision:
    lines = budget_lines("search", "rerank", budget, Budget(), now=NOW)
    balance = Balance(to_units(Decimal(spent_usd)), to_units(Decimal(reserved_usd)))
    balances = [balance if line.kind == "tenant" else Balance() for line in lines]
    cap = None if max_cost is None else Decimal(max_cost)
    return decide_budget(lines, balances, quote, max_cost_usd=cap, now=NOW)


def test_lines_cover_tenant_and_feature_per_day_and_month() -> None:
    lines = budget_lines("search", "rerank", DAILY, Budget(), now=NOW)
    assert [line.key for line in lines] == [
        "tenant:search:day:2025-03-14",
        "tenant:search:month:2025-03",
        "feature:search/rerank:day:2025-03-14",
        "feature:search/rerank:month:2025-03",
    ]
    assert [line.hard_units for line in lines] == [to_units(Decimal(10)), None, None, None]


def test_under_every_limit_the_plan_is_allowed_and_its_worst_case_reserved() -> None:
    decision = decide("1")
    assert decision.verdict is Verdict.ALLOW
    assert decision.amount_units == to_units(Decimal("0.50"))


def test_a_reached_soft_limit_downgrades_to_economy() -> None:
    decision = decide("7.99", reserved_usd="0.01")
    assert decision.verdict is Verdict.DOWNGRADE
    assert decision.reason == "budget"
    assert decision.amount_units == to_units(Decimal("0.05"))
    assert "tenant search daily soft limit" in decision.detail


def test_a_hard_limit_with_room_for_economy_only_downgrades() -> None:
    decision = decide("9.60", budget=Budget(daily=SpendLimit(hard_usd=Decimal(10))))
    assert decision.verdict is Verdict.DOWNGRADE
    assert decision.reason == "budget"


def test_a_reached_hard_limit_rejects_until_the_window_ends() -> None:
    decision = decide("9.96")
    assert decision.verdict is Verdict.REJECT
    assert not decision.max_cost_exceeded
    assert decision.retry_after_s == 6 * 3600
    assert "hard limit of $10 reached" in decision.detail


def test_reservations_in_flight_count_against_the_hard_limit() -> None:
    assert decide("0", reserved_usd="9.96").verdict is Verdict.REJECT


def test_monthly_hard_limit_rejects_until_month_end() -> None:
    budget = Budget(monthly=SpendLimit(hard_usd=Decimal(1)))
    lines = budget_lines("search", "rerank", budget, Budget(), now=NOW)
    balances = [Balance(to_units(Decimal(1))) for _ in lines]
    decision = decide_budget(lines, balances, QUOTE, max_cost_usd=None, now=NOW)
    assert decision.verdict is Verdict.REJECT
    assert decision.retry_after_s == (17 * 24 + 6) * 3600  # to 2025-04-01T00:00Z


def test_feature_budgets_are_enforced_on_their_own_lines() -> None:
    feature = Budget(daily=SpendLimit(hard_usd=Decimal("0.01")))
    lines = budget_lines("search", "rerank", Budget(), feature, now=NOW)
    decision = decide_budget(lines, [Balance()] * 4, QUOTE, max_cost_usd=None, now=NOW)
    assert decision.verdict is Verdict.REJECT
    assert "feature search/rerank daily" in decision.detail


def test_max_cost_downgrades_when_economy_fits_the_cap() -> None:
    decision = decide("0", max_cost="0.10")
    assert (decision.verdict, decision.reason) == (Verdict.DOWNGRADE, "max-cost")
    assert decision.amount_units == to_units(Decimal("0.05"))


def test_max_cost_rejects_when_even_economy_is_above_the_cap() -> None:
    decision = decide("0", max_cost="0.01")
    assert decision.verdict is Verdict.REJECT
    assert decision.max_cost_exceeded
    assert "x-tiergate-max-cost-usd" in decision.detail


def test_max_cost_without_an_economy_alternative_rejects() -> None:
    quote = CostQuote(planned_usd=Decimal("0.5"))
    assert decide("0", max_cost="0.4", quote=quote).max_cost_exceeded
    assert decide("0", max_cost="0.5", quote=quote).verdict is Verdict.ALLOW


def test_soft_limit_with_the_plan_already_economy_still_says_downgrade() -> None:
    decision = decide("9", quote=CostQuote(planned_usd=Decimal("0.05")))
    assert (decision.verdict, decision.amount_units) == (Verdict.DOWNGRADE, 500_000_000)


@pytest.mark.parametrize(("header", "amount"), [(None, None), (" ", None), ("0.25", "0.25")])
def test_parse_max_cost(header: str | None, amount: str | None) -> None:
    assert parse_max_cost(header) == (None if amount is None else Decimal(amount))


@pytest.mark.parametrize("header", ["-1", "abc", "NaN", "Infinity"])
def test_parse_max_cost_refuses_nonsense(header: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_max_cost(header)
    assert caught.value.param == "x-tiergate-max-cost-usd"


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="above the hard"):
        SpendLimit(soft_usd=Decimal(2), hard_usd=Decimal(1))
    with pytest.raises(ValueError, match="negative"):
        SpendLimit(hard_usd=Decimal(-1))
    assert Budget().limit_for(Period.MONTH) == SpendLimit()


_SEVERITY = {Verdict.ALLOW: 0, Verdict.DOWNGRADE: 1, Verdict.REJECT: 2}
money = st.decimals(min_value=0, max_value=20, places=4)


@given(
    spent=st.lists(money, min_size=2, max_size=2),
    soft=money,
    extra=money,
    planned=money,
    economy_share=st.decimals(min_value=0, max_value=1, places=2),
    cap=st.none() | money,
)
def test_decisions_never_get_more_lenient_as_spend_grows(
    spent: list[Decimal],
    soft: Decimal,
    extra: Decimal,
    planned: Decimal,
    economy_share: Decimal,
    cap: Decimal | None,
) -> None:
    budget = Budget(daily=SpendLimit(soft_usd=soft, hard_usd=soft + extra))
    quote = CostQuote(planned_usd=planned, economy_usd=planned * economy_share)
    low, high = sorted(spent)
    first = decide(str(low), budget=budget, quote=quote, max_cost=None if cap is None else str(cap))
    then = decide(str(high), budget=budget, quote=quote, max_cost=None if cap is None else str(cap))
    assert _SEVERITY[first.verdict] <= _SEVERITY[then.verdict]
    if first.verdict is not Verdict.REJECT:
        lines = budget_lines("search", "rerank", budget, Budget(), now=NOW)
        balances = [
            Balance(to_units(low)) if line.kind == "tenant" else Balance() for line in lines
        ]
        assert fits_hard_limits(lines, balances, first.amount_units)


@given(
    hard=st.integers(min_value=0, max_value=1000),
    steps=st.lists(st.tuples(st.booleans(), st.integers(0, 300), st.integers(0, 100)), max_size=60),
)
def test_interleaved_reservations_never_pass_the_hard_limit(
    hard: int, steps: list[tuple[bool, int, int]]
) -> None:
    """Random interleavings of reserve and settle (spending at most what was reserved)."""
    budget = Budget(daily=SpendLimit(hard_usd=from_units(hard)))
    lines = budget_lines("t", "f", budget, Budget(), now=NOW)
    store = MemorySpendStore()
    in_flight: list[int] = []

    async def play() -> None:
        for start, amount, percent in steps:
            if start or not in_flight:
                if (await store.reserve(lines, amount)).reserved:
                    in_flight.append(amount)
            else:
                reserved = in_flight.pop(0)
                await store.settle(lines, reserved, _record(reserved * percent // 100))
            balance = (await store.balances(lines))[0]
            assert balance.total_units <= hard
            assert balance.reserved_units == sum(in_flight)

    asyncio.run(play())


def _record(units: int) -> SpendRecord:
    return SpendRecord(
        day="2025-03-14",
        tenant="t",
        feature="f",
        route="economy",
        model="m",
        usage=Usage(1, 1),
        cost=Cost(usd=from_units(units)),
    )

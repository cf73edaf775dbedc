"""Spend windows are UTC calendar days and months; ledger money is exact."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.ledger import SpendRecord, SpendTotals, from_units, to_units
from domain.pricing import Cost, Usage, format_usd
from domain.spend_windows import (
    Period,
    SpendWindow,
    day_of,
    days_between,
    parse_day,
    seconds_until_end,
    windows_at,
)


def epoch(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()


def test_windows_are_the_utc_day_and_month() -> None:
    assert windows_at(epoch(2025, 3, 31, 23, 59)) == (
        SpendWindow(Period.DAY, "2025-03-31"),
        SpendWindow(Period.MONTH, "2025-03"),
    )
    assert day_of(epoch(2025, 4, 1)) == "2025-04-01"


@given(st.floats(min_value=0, max_value=4e9, allow_nan=False))
def test_windows_agree_with_the_calendar_at_every_moment(epoch_s: float) -> None:
    moment = datetime.fromtimestamp(epoch_s, tz=UTC)
    day, month = windows_at(epoch_s)
    assert day.label == moment.date().isoformat()
    assert month.label == moment.strftime("%Y-%m")


@pytest.mark.parametrize(
    ("moment", "period", "seconds"),
    [
        ((2025, 3, 14, 23), Period.DAY, 3600.0),
        ((2025, 3, 31, 12), Period.MONTH, 12 * 3600.0),
        ((2025, 12, 31, 0), Period.MONTH, 86400.0),
        ((2024, 2, 28, 0), Period.MONTH, 2 * 86400.0),
    ],
)
def test_seconds_until_a_window_ends(
    moment: tuple[int, int, int, int], period: Period, seconds: float
) -> None:
    assert seconds_until_end(period, epoch(*moment)) == seconds


def test_days_between_includes_both_ends() -> None:
    assert days_between(date(2025, 2, 27), date(2025, 3, 1)) == [
        "2025-02-27",
        "2025-02-28",
        "2025-03-01",
    ]
    assert days_between(date(2025, 3, 2), date(2025, 3, 1)) == []


@pytest.mark.parametrize("text", ["2025-1-1", "20250101", "2025-02-30", "yesterday"])
def test_parse_day_wants_iso_dates(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        parse_day(text)


@given(st.decimals(min_value=0, max_value=10**6, places=14, allow_nan=False))
def test_units_round_exactly_like_the_cost_header(amount: Decimal) -> None:
    assert format_usd(from_units(to_units(amount))) == format_usd(amount)


def test_a_record_totals_in_exact_units() -> None:
    record = SpendRecord(
        day="2025-03-14",
        tenant="search",
        feature="rerank",
        route="economy",
        model="Qwen/Qwen3-8B",
        usage=Usage(1000, 500),
        cost=Cost(usd=Decimal("0.00006"), baseline_usd=Decimal("0.0075")),
    )
    assert record.totals == SpendTotals(1, 1000, 500, 600_000, 75_000_000)
    assert record.totals.savings_usd == Decimal("0.00744")
    assert dict(record.dimensions())["model"] == "Qwen/Qwen3-8B"

"""The spend report: day ranges and grouping of ledger rows."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import InvalidRequest
from domain.ledger import SpendTotals
from domain.spend_report import DayRange, GroupBy, SpendRow, report_range, summarize


def totals(requests: int, cost: int, baseline: int | None = None) -> SpendTotals:
    return SpendTotals(requests, 10 * requests, 5 * requests, cost, baseline or 2 * cost)


def rows_of(day: str, tenant: str, feature: str, model: str, t: SpendTotals) -> list[SpendRow]:
    return [
        SpendRow(day, tenant, "all", "*", t),
        SpendRow(day, tenant, "feature", feature, t),
        SpendRow(day, tenant, "model", model, t),
        SpendRow(day, tenant, "route", "economy", t),
    ]


ROWS = [
    *rows_of("2025-03-01", "search", "rerank", "m1", totals(2, 100)),
    *rows_of("2025-03-01", "billing", "rerank", "m2", totals(1, 300)),
    *rows_of("2025-03-02", "search", "summary", "m1", totals(1, 50)),
]
DAYS = DayRange(date(2025, 3, 1), date(2025, 3, 2))


def test_default_range_is_the_current_month_to_date() -> None:
    days = report_range(None, None, today="2025-03-14")
    assert (days.first, days.last) == (date(2025, 3, 1), date(2025, 3, 14))
    assert len(days.days) == 14


@pytest.mark.parametrize(
    ("first", "last"), [("2025-03-05", "2025-03-01"), ("bad", None), ("2024-01-01", "2025-03-01")]
)
def test_bad_ranges_are_refused(first: str | None, last: str | None) -> None:
    with pytest.raises(InvalidRequest):
        report_range(first, last, today="2025-03-14")


def test_group_by_tenant_largest_cost_first() -> None:
    report = summarize(ROWS, GroupBy.TENANT, DAYS)
    assert [(g.key, g.totals.requests, g.totals.cost_units) for g in report.groups] == [
        ("billing", 1, 300),
        ("search", 3, 150),
    ]
    assert report.total.requests == 4
    assert report.total.cost_units == 450
    assert report.total.savings_usd > 0
    assert (report.from_day, report.to_day) == ("2025-03-01", "2025-03-02")


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        (GroupBy.FEATURE, {"rerank": 3, "summary": 1}),
        (GroupBy.MODEL, {"m1": 3, "m2": 1}),
        (GroupBy.ROUTE, {"economy": 4}),
        (GroupBy.DAY, {"2025-03-01": 3, "2025-03-02": 1}),
    ],
)
def test_every_grouping_adds_up_to_the_total(group_by: GroupBy, expected: dict[str, int]) -> None:
    report = summarize(ROWS, group_by, DAYS)
    assert {g.key: g.totals.requests for g in report.groups} == expected
    assert sum((g.totals for g in report.groups), SpendTotals()) == report.total


def test_days_are_listed_in_order() -> None:
    report = summarize(ROWS, GroupBy.DAY, DAYS)
    assert [g.key for g in report.groups] == ["2025-03-01", "2025-03-02"]

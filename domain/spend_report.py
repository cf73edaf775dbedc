"""The spend report: per-day ledger rows summed into groups, with savings against the baseline."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from domain.errors import InvalidRequest
from domain.ledger import SpendTotals
from domain.spend_windows import days_between, parse_day

MAX_REPORT_DAYS = 366


class GroupBy(StrEnum):
    TENANT = "tenant"
    FEATURE = "feature"
    MODEL = "model"
    ROUTE = "route"
    DAY = "day"


@dataclass(frozen=True, slots=True)
class SpendRow:
    """Totals of one tenant on one day under one dimension value (`all`/`*` is the tenant total)."""

    day: str
    tenant: str
    dimension: str  # all | feature | model | route
    value: str
    totals: SpendTotals


@dataclass(frozen=True, slots=True)
class SpendGroup:
    key: str
    totals: SpendTotals


@dataclass(frozen=True, slots=True)
class SpendReport:
    group_by: GroupBy
    from_day: str
    to_day: str
    groups: tuple[SpendGroup, ...]
    total: SpendTotals


@dataclass(frozen=True, slots=True)
class DayRange:
    first: date
    last: date

    @property
    def days(self) -> list[str]:
        return days_between(self.first, self.last)


def report_range(from_text: str | None, to_text: str | None, *, today: str) -> DayRange:
    """`from`/`to` as ISO days, both included; default: the current month up to today."""
    try:
        last = parse_day(to_text) if to_text else parse_day(today)
        first = parse_day(from_text) if from_text else last.replace(day=1)
    except ValueError:
        raise InvalidRequest("`from` and `to` must be dates like 2025-01-31.") from None
    if first > last:
        raise InvalidRequest("`from` must not be after `to`.", param="from")
    if (last - first).days >= MAX_REPORT_DAYS:
        raise InvalidRequest(f"A report covers at most {MAX_REPORT_DAYS} days.", param="from")
    return DayRange(first, last)


def summarize(rows: Iterable[SpendRow], group_by: GroupBy, days: DayRange) -> SpendReport:
    """Sum rows into groups (largest cost first); the total counts each call once."""
    dimension = "all" if group_by in (GroupBy.TENANT, GroupBy.DAY) else group_by.value
    groups: dict[str, SpendTotals] = {}
    total = SpendTotals()
    for row in rows:
        if row.dimension == "all":
            total += row.totals
        if row.dimension != dimension:
            continue
        key = {GroupBy.TENANT: row.tenant, GroupBy.DAY: row.day}.get(group_by, row.value)
        groups[key] = groups.get(key, SpendTotals()) + row.totals
    ordered = sorted(groups.items(), key=lambda item: (-item[1].cost_units, item[0]))
    if group_by is GroupBy.DAY:
        ordered = sorted(groups.items())
    return SpendReport(
        group_by=group_by,
        from_day=days.first.isoformat(),
        to_day=days.last.isoformat(),
        groups=tuple(SpendGroup(key, totals) for key, totals in ordered),
        total=total,
    )

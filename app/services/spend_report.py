"""The spend report use case: ledger rows for the asked days, grouped, scoped to the caller."""

from __future__ import annotations

import time
from collections.abc import Callable

from domain.errors import InvalidRequest
from domain.governance_ports import SpendStore
from domain.spend_report import GroupBy, SpendReport, report_range, summarize
from domain.spend_windows import day_of
from domain.tenants import Tenant


class SpendReporter:
    def __init__(self, *, store: SpendStore, wall_clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._wall_clock = wall_clock

    async def report(
        self, caller: Tenant, group_by: str, from_day: str | None, to_day: str | None
    ) -> SpendReport:
        """Admins (and open mode) see every tenant; any other tenant sees only itself."""
        try:
            grouping = GroupBy(group_by)
        except ValueError:
            choices = ", ".join(member.value for member in GroupBy)
            message = f"`group_by` must be one of {choices}."
            raise InvalidRequest(message, param="group_by") from None
        days = report_range(from_day, to_day, today=day_of(self._wall_clock()))
        rows = await self._store.rows(days.days, None if caller.admin else caller.name)
        return summarize(rows, grouping, days)

"""`SpendStore` in process memory: one gateway process, or tests. Atomic because nothing awaits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import fields
from operator import attrgetter

from domain.budgets import Balance, BudgetLine, fits_hard_limits
from domain.governance_ports import ReserveOutcome
from domain.ledger import SpendRecord, SpendTotals, to_units
from domain.spend_report import SpendRow

_Group = tuple[str, str, str]  # (tenant, dimension, value)
# A SpendTotals' counters in field order, the order `SpendTotals(*counters)` reads them back in.
_counters_of = attrgetter(*(field.name for field in fields(SpendTotals)))


class MemorySpendStore:
    """Counters are kept as mutable lists and read out as domain values: every call settles
    four budget lines and four ledger groups, and a new frozen value for each was a tenth of
    the store's cost."""

    def __init__(self) -> None:
        self._balances: dict[str, list[int]] = {}  # line key -> [committed, reserved] units
        self._ledger: dict[str, dict[_Group, list[int]]] = defaultdict(dict)  # SpendTotals' fields

    async def balances(self, lines: Sequence[BudgetLine]) -> list[Balance]:
        return [self._balance(line.key) for line in lines]

    async def reserve(self, lines: Sequence[BudgetLine], amount_units: int) -> ReserveOutcome:
        current = await self.balances(lines)
        if not fits_hard_limits(lines, current, amount_units):
            return ReserveOutcome(reserved=False, balances=current)
        for line in lines:
            self._counters(line.key)[1] += amount_units
        return ReserveOutcome(reserved=True, balances=await self.balances(lines))

    async def settle(
        self, lines: Sequence[BudgetLine], reserved_units: int, record: SpendRecord | None
    ) -> None:
        spent = 0 if record is None else to_units(record.cost.usd)
        for line in lines:
            counters = self._counters(line.key)
            counters[0] += spent
            counters[1] -= reserved_units
        if record is None:
            return
        day = self._ledger[record.day]
        added: tuple[int, ...] = _counters_of(record.totals)
        for dimension, value in record.dimensions():
            group = (record.tenant, dimension, value)
            if (totals := day.get(group)) is None:
                day[group] = list(added)
            else:
                for index, amount in enumerate(added):
                    totals[index] += amount

    async def rows(self, days: Sequence[str], tenant: str | None) -> list[SpendRow]:
        return [
            SpendRow(day, group_tenant, dimension, value, SpendTotals(*totals))
            for day in days
            for (group_tenant, dimension, value), totals in self._ledger.get(day, {}).items()
            if tenant is None or group_tenant == tenant
        ]

    async def ping(self) -> None:
        return None

    def _balance(self, key: str) -> Balance:
        counters = self._balances.get(key)
        return Balance() if counters is None else Balance(*counters)

    def _counters(self, key: str) -> list[int]:
        if (counters := self._balances.get(key)) is None:
            counters = self._balances[key] = [0, 0]
        return counters

"""`SpendStore` in process memory: one gateway process, or tests. Atomic because nothing awaits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from domain.budgets import Balance, BudgetLine, fits_hard_limits
from domain.governance_ports import ReserveOutcome
from domain.ledger import SpendRecord, SpendTotals, to_units
from domain.spend_report import SpendRow

_Group = tuple[str, str, str]  # (tenant, dimension, value)


class MemorySpendStore:
    def __init__(self) -> None:
        self._balances: dict[str, Balance] = {}
        self._ledger: dict[str, dict[_Group, SpendTotals]] = defaultdict(dict)

    async def balances(self, lines: Sequence[BudgetLine]) -> list[Balance]:
        return [self._balances.get(line.key, Balance()) for line in lines]

    async def reserve(self, lines: Sequence[BudgetLine], amount_units: int) -> ReserveOutcome:
        current = await self.balances(lines)
        if not fits_hard_limits(lines, current, amount_units):
            return ReserveOutcome(reserved=False, balances=current)
        after = [
            Balance(balance.committed_units, balance.reserved_units + amount_units)
            for balance in current
        ]
        for line, balance in zip(lines, after, strict=True):
            self._balances[line.key] = balance
        return ReserveOutcome(reserved=True, balances=after)

    async def settle(
        self, lines: Sequence[BudgetLine], reserved_units: int, record: SpendRecord | None
    ) -> None:
        spent = 0 if record is None else to_units(record.cost.usd)
        for line in lines:
            balance = self._balances.get(line.key, Balance())
            self._balances[line.key] = Balance(
                balance.committed_units + spent, balance.reserved_units - reserved_units
            )
        if record is None:
            return
        day = self._ledger[record.day]
        totals = record.totals
        for dimension, value in record.dimensions():
            group = (record.tenant, dimension, value)
            day[group] = day.get(group, SpendTotals()) + totals

    async def rows(self, days: Sequence[str], tenant: str | None) -> list[SpendRow]:
        return [
            SpendRow(day, group_tenant, dimension, value, totals)
            for day in days
            for (group_tenant, dimension, value), totals in self._ledger.get(day, {}).items()
            if tenant is None or group_tenant == tenant
        ]

    async def ping(self) -> None:
        return None

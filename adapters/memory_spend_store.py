"""`SpendStore` in process memory: one gateway process, or tests. Atomic because nothing awaits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import fields
from operator import attrgetter
from typing import TypeVar

from domain.budgets import Balance, BudgetLine, fits_hard_limits
from domain.governance_ports import ReserveOutcome
from domain.ledger import SpendRecord, SpendTotals, ledger_dimensions
from domain.spend_report import SpendRow

_Group = tuple[str, str, str]  # (tenant, dimension, value)
_Combination = tuple[str, str, str, str]  # (tenant, feature, route, model)
# A SpendTotals' counters in field order, the order `SpendTotals(*counters)` reads them back in.
_counters_of = attrgetter(*(field.name for field in fields(SpendTotals)))
K = TypeVar("K", _Group, _Combination)


class MemorySpendStore:
    """Counters are kept as mutable lists and read out as domain values: every call settles
    four budget lines, and a new frozen value for each was a tenth of the store's cost.

    The ledger counts each call once, under its combination of tenant, feature, route and
    model, and `rows` sums the combinations into the report's groups (tenant total, per
    feature, per model, per route): calls are many and reports are few, and adding to four
    groups per call was most of settling."""

    def __init__(self) -> None:
        self._balances: dict[str, list[int]] = {}  # line key -> [committed, reserved] units
        # day -> combination -> SpendTotals' fields
        self._ledger: dict[str, dict[_Combination, list[int]]] = defaultdict(dict)

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
        if record is None:
            self._settle_lines(lines, reserved_units, spent_units=0)
            return
        totals = record.totals
        self._settle_lines(lines, reserved_units, spent_units=totals.cost_units)
        day = self._ledger[record.day]
        combination = (record.tenant, record.feature, record.route, record.model)
        _add_to(day, combination, _counters_of(totals))

    async def rows(self, days: Sequence[str], tenant: str | None) -> list[SpendRow]:
        return [
            SpendRow(day, group_tenant, dimension, value, SpendTotals(*totals))
            for day in days
            for (group_tenant, dimension, value), totals in self._groups(day, tenant).items()
        ]

    def _groups(self, day: str, tenant: str | None) -> dict[_Group, list[int]]:
        groups: dict[_Group, list[int]] = {}
        for (call_tenant, feature, route, model), added in self._ledger.get(day, {}).items():
            if tenant is not None and call_tenant != tenant:
                continue
            for dimension, value in ledger_dimensions(feature=feature, route=route, model=model):
                _add_to(groups, (call_tenant, dimension, value), added)
        return groups

    async def ping(self) -> None:
        return None

    def _settle_lines(
        self, lines: Sequence[BudgetLine], reserved_units: int, *, spent_units: int
    ) -> None:
        if not (spent_units or reserved_units):
            return  # a cache hit with nothing reserved: every balance stays as it is
        for line in lines:
            counters = self._counters(line.key)
            counters[0] += spent_units
            counters[1] -= reserved_units

    def _balance(self, key: str) -> Balance:
        counters = self._balances.get(key)
        return Balance() if counters is None else Balance(*counters)

    def _counters(self, key: str) -> list[int]:
        if (counters := self._balances.get(key)) is None:
            counters = self._balances[key] = [0, 0]
        return counters


def _add_to(counters: dict[K, list[int]], key: K, added: Sequence[int]) -> None:
    """Add `added` to the counters under `key`, element by element (a copy of it if new)."""
    if (kept := counters.get(key)) is None:
        counters[key] = list(added)
    else:
        for index, amount in enumerate(added):
            kept[index] += amount

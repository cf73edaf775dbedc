"""Exact money for the spend ledger: USD as integer units of 1e-10, the precision of the headers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.pricing import Cost, Usage

UNITS_PER_USD = 10**10


def to_units(amount: Decimal) -> int:
    """USD to ledger units, rounded exactly as `format_usd` prints them (10 places, half-even:
    `round` of a Decimal to an integer rounds half to even)."""
    return round(amount.scaleb(10))


def from_units(units: int) -> Decimal:
    return Decimal(units).scaleb(-10)


@dataclass(frozen=True, slots=True)
class SpendTotals:
    """Additive counters for one group of calls; money in ledger units."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_units: int = 0
    baseline_units: int = 0

    def __add__(self, other: SpendTotals) -> SpendTotals:
        return SpendTotals(
            requests=self.requests + other.requests,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_units=self.cost_units + other.cost_units,
            baseline_units=self.baseline_units + other.baseline_units,
        )

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def cost_usd(self) -> Decimal:
        return from_units(self.cost_units)

    @property
    def baseline_usd(self) -> Decimal:
        return from_units(self.baseline_units)

    @property
    def savings_usd(self) -> Decimal:
        return from_units(self.baseline_units - self.cost_units)


@dataclass(frozen=True, slots=True)
class SpendRecord:
    """One call as the ledger keeps it: who, what for, where it went, and what it cost."""

    day: str  # UTC, ISO `YYYY-MM-DD`: the day the call was admitted
    tenant: str
    feature: str
    route: str
    model: str
    usage: Usage
    cost: Cost

    @property
    def totals(self) -> SpendTotals:
        return SpendTotals(
            requests=1,
            input_tokens=self.usage.input_tokens,
            output_tokens=self.usage.output_tokens,
            cost_units=to_units(self.cost.usd),
            baseline_units=to_units(self.cost.baseline_usd),
        )

    def dimensions(self) -> tuple[tuple[str, str], ...]:
        """The (dimension, value) pairs the record is summed under; `all` is the tenant total."""
        return ledger_dimensions(feature=self.feature, route=self.route, model=self.model)


def ledger_dimensions(*, feature: str, route: str, model: str) -> tuple[tuple[str, str], ...]:
    """The (dimension, value) pairs a call is summed under; `all` is the tenant total."""
    return (("all", "*"), ("feature", feature), ("model", model), ("route", route))

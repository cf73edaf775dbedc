"""Pricing: what a call cost, and what it would have cost on the baseline model."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.catalog import Model

_PER_MILLION = Decimal(1_000_000)
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
        )

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class Cost:
    """Money in USD. `baseline` is what the same usage would have cost on the baseline model."""

    usd: Decimal = _ZERO
    baseline_usd: Decimal = _ZERO

    def __add__(self, other: Cost) -> Cost:
        return Cost(usd=self.usd + other.usd, baseline_usd=self.baseline_usd + other.baseline_usd)

    @property
    def saving_usd(self) -> Decimal:
        return self.baseline_usd - self.usd


NO_COST = Cost()


def price(model: Model, usage: Usage) -> Decimal:
    return (
        usage.input_tokens * model.price_in + usage.output_tokens * model.price_out
    ) / _PER_MILLION


def cost_of(model: Model, usage: Usage, *, baseline: Model) -> Cost:
    return Cost(usd=price(model, usage), baseline_usd=price(baseline, usage))


def embedding_cost(input_tokens: int, price_in: Decimal) -> Cost:
    """An embedding the gateway asked for by itself: no baseline would have made it."""
    return Cost(usd=input_tokens * price_in / _PER_MILLION)


def worst_case_price(model: Model, input_tokens: int, max_output_tokens: int) -> Decimal:
    return price(model, Usage(input_tokens=input_tokens, output_tokens=max_output_tokens))


def format_usd(amount: Decimal) -> str:
    """Fixed-point text for headers and JSON: 10 decimal places, no exponent."""
    return f"{amount:.10f}"

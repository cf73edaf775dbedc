"""The record of every upstream attempt a request made, and what they cost together."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.catalog import Model
from domain.pricing import Cost, Usage, cost_of, price


@dataclass(frozen=True, slots=True)
class Attempt:
    model: str
    upstream: str | None
    outcome: str  # ok | empty | escalated | error code
    usage: Usage
    cost: Cost


@dataclass(slots=True)
class AttemptLog:
    """Every attempt is billed: tokens spent by failed, cut or escalated attempts count too."""

    baseline: Model
    attempts: list[Attempt] = field(default_factory=list)

    def add(self, model: Model, upstream: str | None, outcome: str, usage: Usage) -> None:
        self.attempts.append(
            Attempt(
                model.id, upstream, outcome, usage, cost_of(model, usage, baseline=self.baseline)
            )
        )

    @property
    def total_cost(self) -> Cost:
        """All attempts' spend, against what the baseline would have charged for the answer."""
        spent = sum((attempt.cost.usd for attempt in self.attempts), Cost().usd)
        answered = [attempt for attempt in self.attempts if attempt.outcome == "ok"]
        baseline = price(self.baseline, answered[-1].usage) if answered else Cost().usd
        return Cost(usd=spent, baseline_usd=baseline)

    @property
    def total_usage(self) -> Usage:
        total = Usage()
        for attempt in self.attempts:
            total = total + attempt.usage
        return total

    @property
    def count(self) -> int:
        return len(self.attempts)

    def cost_with(self, model: Model, usage: Usage) -> Cost:
        """The total cost if one more, successful attempt on `model` used `usage`."""
        spent = sum((attempt.cost.usd for attempt in self.attempts), price(model, usage))
        return Cost(usd=spent, baseline_usd=price(self.baseline, usage))

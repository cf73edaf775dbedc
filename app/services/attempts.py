"""The record of every upstream attempt a request made, and what they cost together."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from app.services.answer_cache import EmbeddingSpend
from domain.catalog import Model
from domain.pricing import NO_COST, Cost, Usage, cost_of, price


@dataclass(frozen=True, slots=True)
class Attempt:
    model: str
    upstream: str | None
    outcome: str  # ok | empty | escalated | error code
    usage: Usage
    cost: Cost


@dataclass(slots=True)
class AttemptLog:
    """Every attempt is billed: tokens spent by failed, cut or escalated attempts count too.
    So is the semantic cache's embedding of the request: part of its cost, not an attempt.
    An answer from the cache has no attempt; its usage still sets the baseline."""

    baseline: Model
    attempts: list[Attempt] = field(default_factory=list)
    embeddings: list[EmbeddingSpend] = field(default_factory=list)
    cached_usage: Usage | None = None
    # Read for the cost headers, the metrics and the spend record of every request.
    _total_cost: Cost | None = field(default=None, init=False, repr=False)

    def add(self, model: Model, upstream: str | None, outcome: str, usage: Usage) -> None:
        self._total_cost = None
        self.attempts.append(
            Attempt(
                model.id, upstream, outcome, usage, cost_of(model, usage, baseline=self.baseline)
            )
        )

    def add_embedding(self, spend: EmbeddingSpend | None) -> None:
        if spend is not None:
            self._total_cost = None
            self.embeddings.append(spend)

    def answered_from_cache(self, usage: Usage) -> None:
        """The stored answer's usage: what the baseline is priced on for a cache hit."""
        self._total_cost = None
        self.cached_usage = usage

    @property
    def total_cost(self) -> Cost:
        """All attempts' and embeddings' spend, against what the baseline would have charged
        for the answer."""
        if self._total_cost is None:
            self._total_cost = self._summed_cost()
        return self._total_cost

    def _summed_cost(self) -> Cost:
        spent = self._embedding_usd()
        answer_usage = self.cached_usage  # unless an attempt answered: then the last one's
        for attempt in self.attempts:
            spent += attempt.cost.usd
            if attempt.outcome == "ok":
                answer_usage = attempt.usage
        if answer_usage is None:
            return Cost(usd=spent)
        return Cost(usd=spent, baseline_usd=price(self.baseline, answer_usage))

    @property
    def total_usage(self) -> Usage:
        if len(self.attempts) == 1:  # most calls: nothing to add up
            return self.attempts[0].usage
        return sum((attempt.usage for attempt in self.attempts), Usage())

    @property
    def count(self) -> int:
        return len(self.attempts)

    @property
    def spent_anything(self) -> bool:
        """Whether the request used anything worth a spend record: an attempt (failed ones
        too), an embedding (also when no attempt followed), or the cache's answer."""
        return bool(self.attempts or self.embeddings) or self.cached_usage is not None

    def cost_with(self, model: Model, usage: Usage) -> Cost:
        """The total cost if one more, successful attempt on `model` used `usage`."""
        first = price(model, usage) + self._embedding_usd()
        spent = sum((attempt.cost.usd for attempt in self.attempts), first)
        return Cost(usd=spent, baseline_usd=price(self.baseline, usage))

    def _embedding_usd(self) -> Decimal:
        if not self.embeddings:  # the exact cache's requests: no embedding
            return NO_COST.usd
        return sum((spend.cost.usd for spend in self.embeddings), NO_COST.usd)

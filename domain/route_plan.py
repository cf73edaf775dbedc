"""RoutePlan: the ordered candidates for one request, and why."""

from __future__ import annotations

from dataclasses import dataclass

from domain.catalog import Model


@dataclass(frozen=True, slots=True)
class Candidate:
    model: Model
    output_limit: int | None  # max tokens to ask this model for; None leaves the caller's value
    degraded: bool = False  # the answer would come from a lower tier than the route's


@dataclass(frozen=True, slots=True)
class RoutePlan:
    route: str
    tier: str
    rule: str  # the rule that fired, e.g. "auto/keyword"
    reason: str  # human-readable, names the rule
    candidates: tuple[Candidate, ...]
    cascade: bool = False
    pinned: bool = False

    @property
    def primary(self) -> Candidate:
        return self.candidates[0]

    @property
    def families(self) -> frozenset[str]:
        return frozenset(candidate.model.family for candidate in self.candidates)

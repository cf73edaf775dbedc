"""The routing policy: named routes, tiers, and the rules that pick a route for `auto`."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.catalog import Capability
from domain.tasks import TaskKind

TIER_ORDER = ("economy", "standard", "premium")


@dataclass(frozen=True, slots=True)
class Route:
    """A named list of candidate model ids, in order of preference."""

    name: str
    candidates: tuple[str, ...]
    tier: str  # the tier this route's answers are judged at (economy/standard/premium)
    max_output_tokens: int | None = None  # cap so a runaway generation cannot run up the bill
    cascade: bool = False  # try the cheapest candidate first, escalate when its answer fails


@dataclass(frozen=True, slots=True)
class KeywordRule:
    keywords: frozenset[str]
    route: str


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    routes: dict[str, Route]
    task_routes: dict[TaskKind, str] = field(default_factory=dict)
    capability_routes: dict[Capability, str] = field(default_factory=dict)
    keyword_rules: tuple[KeywordRule, ...] = ()
    long_context_tokens: int = 8_000
    long_context_route: str | None = None
    very_long_context_tokens: int = 100_000
    very_long_context_route: str | None = None
    economy_below: float = 0.35  # auto: complexity under this goes to the economy tier
    premium_from: float = 0.70  # auto: complexity at or above this goes to the premium tier
    default_output_tokens: int = 1024  # assumed output when the caller sets no limit

    def __post_init__(self) -> None:
        referenced = [
            *self.task_routes.values(),
            *self.capability_routes.values(),
            *(rule.route for rule in self.keyword_rules),
            *(r for r in (self.long_context_route, self.very_long_context_route) if r),
        ]
        missing = sorted({name for name in referenced if name not in self.routes})
        if missing:
            raise ValueError(f"routing rules name undefined routes: {', '.join(missing)}")
        missing_tiers = [tier for tier in TIER_ORDER if tier not in self.routes]
        if missing_tiers:
            raise ValueError(f"routing needs the tiers {', '.join(missing_tiers)}")

    @property
    def keywords(self) -> frozenset[str]:
        return frozenset().union(*(rule.keywords for rule in self.keyword_rules))

    def tier_below(self, tier: str) -> str | None:
        if tier not in TIER_ORDER:
            return None
        index = TIER_ORDER.index(tier)
        return TIER_ORDER[index - 1] if index > 0 else None

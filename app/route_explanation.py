"""The dry-run answer of POST /v1/route and `tiergate route`: the plan, the features, the reason."""

from __future__ import annotations

import msgspec

from domain.features import RequestFeatures
from domain.route_plan import RoutePlan


class CandidateView(msgspec.Struct, kw_only=True):
    model: str
    family: str
    output_limit: int | None
    degraded: bool
    price_in_usd_per_million: str
    price_out_usd_per_million: str


class FeaturesView(msgspec.Struct, kw_only=True):
    estimated_input_tokens: int
    requested_output_tokens: int | None
    needs: list[str]
    task: str
    complexity: float
    keyword_hits: list[str]
    tier_hint: str | None


class RouteExplanation(msgspec.Struct, kw_only=True):
    route: str
    tier: str
    rule: str
    reason: str
    cascade: bool
    pinned: bool
    candidates: list[CandidateView]
    features: FeaturesView


def explain(plan: RoutePlan, features: RequestFeatures) -> RouteExplanation:
    return RouteExplanation(
        route=plan.route,
        tier=plan.tier,
        rule=plan.rule,
        reason=plan.reason,
        cascade=plan.cascade,
        pinned=plan.pinned,
        candidates=[
            CandidateView(
                model=c.model.id,
                family=c.model.family,
                output_limit=c.output_limit,
                degraded=c.degraded,
                price_in_usd_per_million=str(c.model.price_in),
                price_out_usd_per_million=str(c.model.price_out),
            )
            for c in plan.candidates
        ],
        features=FeaturesView(
            estimated_input_tokens=features.input_tokens,
            requested_output_tokens=features.requested_output,
            needs=sorted(features.needs),
            task=str(features.task),
            complexity=round(features.complexity, 4),
            keyword_hits=list(features.keyword_hits),
            tier_hint=features.tier_hint,
        ),
    )

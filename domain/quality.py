"""Rolling answer quality per (route, model) from caller feedback, and the demotion rule."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from domain.errors import InvalidRequest
from domain.route_plan import RoutePlan

THUMBS = {"up": 1.0, "down": 0.0}


@dataclass(frozen=True, slots=True)
class QualityRule:
    """Demote a model from a route when its mean score over the last `window` feedbacks falls
    below `demote_below` (after at least `min_samples`); restore it at `restore_at` or above."""

    window: int = 50
    min_samples: int = 20
    demote_below: float = 0.8
    restore_at: float = 0.85

    def __post_init__(self) -> None:
        if not 0 < self.min_samples <= self.window:
            raise ValueError("quality: need 0 < min_samples <= window")
        if not 0 <= self.demote_below <= self.restore_at <= 1:
            raise ValueError("quality: need 0 <= demote_below <= restore_at <= 1")


@dataclass(frozen=True, slots=True)
class QualityStat:
    samples: int
    mean: float | None

    @classmethod
    def of(cls, scores: Sequence[float]) -> QualityStat:
        return cls(len(scores), sum(scores) / len(scores) if scores else None)


@dataclass(frozen=True, slots=True)
class ServedRequest:
    """What feedback on a request id is about."""

    tenant: str
    route: str
    model: str


def feedback_score(score: float | None, thumbs: str | None) -> float:
    """Exactly one of a score in [0, 1] or thumbs up/down."""
    if (score is None) == (thumbs is None):
        raise InvalidRequest("Send exactly one of `score` (0 to 1) or `thumbs` (up or down).")
    if thumbs is not None:
        if thumbs not in THUMBS:
            raise InvalidRequest("`thumbs` must be `up` or `down`.", param="thumbs")
        return THUMBS[thumbs]
    assert score is not None
    if not 0 <= score <= 1:
        raise InvalidRequest("`score` must be between 0 and 1.", param="score")
    return float(score)


def is_demoted(rule: QualityRule, stat: QualityStat, *, demoted_now: bool) -> bool:
    """The demotion state after `stat`; the gap between the two thresholds stops flapping."""
    if stat.mean is None or stat.samples < rule.min_samples:
        return demoted_now
    if demoted_now:
        return stat.mean < rule.restore_at
    return stat.mean < rule.demote_below


def without_demoted(plan: RoutePlan, demoted: frozenset[str]) -> RoutePlan:
    """Drop demoted models from a plan, never all of them, and never from a pinned plan."""
    if plan.pinned or not demoted:
        return plan
    kept = tuple(c for c in plan.candidates if c.model.id not in demoted)
    dropped = [c.model.id for c in plan.candidates if c.model.id in demoted]
    if not kept or not dropped:
        return plan
    reason = f"{plan.reason}; demoted for low quality: {', '.join(dropped)}"
    return dataclasses.replace(plan, candidates=kept, reason=reason)

"""Rolling quality and the demotion rule, with hysteresis and a minimum of evidence."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.catalog import Model
from domain.errors import InvalidRequest
from domain.quality import QualityRule, QualityStat, feedback_score, is_demoted, without_demoted
from domain.route_plan import Candidate, RoutePlan

RULE = QualityRule(window=10, min_samples=4, demote_below=0.8, restore_at=0.9)


def model(name: str) -> Model:
    return Model(name, name.split("-")[0], Decimal(1), Decimal(1), 1000, 100)


def plan(*names: str, pinned: bool = False) -> RoutePlan:
    candidates = tuple(Candidate(model(name), None) for name in names)
    return RoutePlan("economy", "economy", "named", "named", candidates, pinned=pinned)


@pytest.mark.parametrize(
    ("score", "thumbs", "value"), [(0.7, None, 0.7), (None, "up", 1.0), (None, "down", 0.0)]
)
def test_feedback_score(score: float | None, thumbs: str | None, value: float) -> None:
    assert feedback_score(score, thumbs) == value


@pytest.mark.parametrize(
    ("score", "thumbs"), [(None, None), (0.5, "up"), (1.5, None), (-0.1, None), (None, "meh")]
)
def test_feedback_score_refuses_bad_input(score: float | None, thumbs: str | None) -> None:
    with pytest.raises(InvalidRequest):
        feedback_score(score, thumbs)


def test_quality_stat_is_the_mean() -> None:
    assert QualityStat.of([1.0, 0.0, 0.5]) == QualityStat(3, 0.5)
    assert QualityStat.of([]) == QualityStat(0, None)


def test_no_demotion_before_enough_samples() -> None:
    assert not is_demoted(RULE, QualityStat.of([0.0] * 3), demoted_now=False)
    assert is_demoted(RULE, QualityStat.of([0.0] * 4), demoted_now=False)


def test_hysteresis_between_demote_and_restore_thresholds() -> None:
    middling = QualityStat.of([0.85] * 5)
    assert not is_demoted(RULE, middling, demoted_now=False)
    assert is_demoted(RULE, middling, demoted_now=True)
    assert not is_demoted(RULE, QualityStat.of([0.9] * 5), demoted_now=True)
    assert is_demoted(RULE, QualityStat.of([0.79] * 5), demoted_now=False)


def test_too_few_samples_keep_the_current_state() -> None:
    assert is_demoted(RULE, QualityStat.of([1.0]), demoted_now=True)


def test_rule_is_validated() -> None:
    with pytest.raises(ValueError, match="min_samples"):
        QualityRule(window=5, min_samples=6)
    with pytest.raises(ValueError, match="demote_below"):
        QualityRule(demote_below=0.9, restore_at=0.8)


def test_demoted_models_leave_the_plan_with_a_reason() -> None:
    pruned = without_demoted(plan("qwen-a", "glm-b", "ds-c"), frozenset({"qwen-a"}))
    assert [c.model.id for c in pruned.candidates] == ["glm-b", "ds-c"]
    assert pruned.reason.endswith("demoted for low quality: qwen-a")


def test_a_plan_is_never_emptied_and_pinned_plans_are_kept() -> None:
    only = plan("qwen-a")
    assert without_demoted(only, frozenset({"qwen-a"})) is only
    pinned = plan("qwen-a", "glm-b", pinned=True)
    assert without_demoted(pinned, frozenset({"qwen-a"})) is pinned
    untouched = plan("glm-b")
    assert without_demoted(untouched, frozenset({"qwen-a"})) is untouched

"""Every routing rule, and the plan invariants as properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.catalog import Capability
from domain.errors import ContextLengthExceeded, InvalidRequest, ModelNotFound
from domain.router import MIN_OUTPUT_TOKENS, plan_route
from domain.tasks import TaskKind
from tests.unit.routing_fixtures import bundled, features

TEXT = Capability.TEXT


def plan(requested: str = "auto", **kwargs: object):  # type: ignore[no-untyped-def]
    catalog, policy = bundled()
    allow = bool(kwargs.pop("allow_fallback", True))
    return plan_route(requested, features(**kwargs), catalog, policy, allow_fallback=allow)  # type: ignore[arg-type]


def test_pinned_by_alias_keeps_the_model_first_with_a_cross_family_fallback() -> None:
    result = plan("glm-4-plus")
    assert result.pinned and result.rule == "pinned"
    assert result.primary.model.id == "THUDM/glm-4-plus"
    assert len(result.families) >= 2


def test_pinned_without_fallback_has_one_candidate() -> None:
    result = plan("gpt-4o", allow_fallback=False)
    assert [c.model.id for c in result.candidates] == ["openai/gpt-4o"]


def test_unknown_model_is_not_found() -> None:
    with pytest.raises(ModelNotFound):
        plan("no-such-model")


@pytest.mark.parametrize(("score", "tier"), [(0.1, "economy"), (0.5, "standard"), (0.9, "premium")])
def test_auto_complexity_picks_the_tier(score: float, tier: str) -> None:
    result = plan(complexity=score)
    assert (result.route, result.rule) == (tier, "auto/complexity")
    assert "auto/complexity" in result.reason


@pytest.mark.parametrize(
    ("task", "route", "model"),
    [
        (TaskKind.CLASSIFY, "classify", "Qwen/Qwen3-8B"),
        (TaskKind.CODE, "code", "Qwen/Qwen3-Coder-480B-A35B-Instruct"),
        (TaskKind.SUMMARIZE, "summarize", "Qwen/Qwen3-32B"),
        (TaskKind.REASONING, "reasoning", "deepseek-ai/DeepSeek-R1"),
        (TaskKind.TRANSLATE, "translate", "tencent/Hunyuan-MT-7B"),
    ],
)
def test_task_map(task: TaskKind, route: str, model: str) -> None:
    result = plan(task=task)
    assert result.route == route and result.rule == "auto/task"
    assert result.primary.model.id == model


def test_keyword_rule_escalates_to_premium_and_names_the_keyword() -> None:
    result = plan(keywords=("legal",), complexity=0.1, task=TaskKind.CLASSIFY)
    assert result.route == "premium" and "legal" in result.reason


def test_images_go_to_a_vision_model_and_audio_to_an_audio_model() -> None:
    vision = plan(needs=frozenset({TEXT, Capability.VISION}))
    assert vision.route == "vision"
    assert all(Capability.VISION in c.model.capabilities for c in vision.candidates)
    audio = plan(needs=frozenset({TEXT, Capability.AUDIO}))
    assert audio.primary.model.id == "Qwen/Qwen2.5-Omni-7B"


def test_tier_hint_wins_over_complexity() -> None:
    assert plan(complexity=0.95, tier_hint="economy").route == "economy"


def test_long_input_goes_to_a_long_context_route() -> None:
    assert plan(tokens=20_000).route == "long-context"
    very_long = plan(tokens=150_000)
    assert very_long.route == "very-long-context"
    assert very_long.primary.model.id == "deepseek-ai/DeepSeek-V4-Pro"


def test_summarize_of_a_long_document_skips_the_small_window_model() -> None:
    result = plan(task=TaskKind.SUMMARIZE, tokens=40_000)
    assert "Qwen/Qwen3-32B" not in [c.model.id for c in result.candidates]


def test_too_long_for_every_model_is_a_clear_400() -> None:
    with pytest.raises(ContextLengthExceeded):
        plan(tokens=300_000)


def test_missing_capability_everywhere_is_a_400() -> None:
    catalog, policy = bundled()
    needs = frozenset({TEXT, Capability.AUDIO, Capability.JSON})
    with pytest.raises(InvalidRequest):
        plan_route("auto", features(needs=needs), catalog, policy)


def test_route_caps_output_tokens() -> None:
    result = plan("classify", output=100_000)
    assert all(c.output_limit is not None and c.output_limit <= 512 for c in result.candidates)


def test_premium_tier_degrades_to_standard_models_last() -> None:
    result = plan("premium")
    degraded = [c for c in result.candidates if c.degraded]
    assert degraded and result.candidates[-1].degraded
    assert not result.candidates[0].degraded


def test_cascade_tries_the_cheapest_first() -> None:
    result = plan("cascade")
    prices = [c.model.price_in + c.model.price_out for c in result.candidates]
    assert result.cascade and prices == sorted(prices)
    assert not any(c.degraded for c in result.candidates)


_routes = st.sampled_from(
    [
        "auto",
        "economy",
        "standard",
        "premium",
        "cascade",
        "code",
        "summarize",
        "classify",
        "gpt-4o",
        "glm-4-plus",
        "qwen3-32b",
    ]
)
_needs = st.sets(st.sampled_from([Capability.VISION, Capability.TOOLS, Capability.JSON])).map(
    lambda extra: frozenset({TEXT, *extra})
)


@settings(max_examples=300, deadline=None)
@given(
    requested=_routes,
    tokens=st.integers(1, 220_000),
    output=st.none() | st.integers(1, 40_000),
    needs=_needs,
    task=st.sampled_from(list(TaskKind)),
    complexity=st.floats(0, 1),
)
def test_plan_invariants(
    requested: str,
    tokens: int,
    output: int | None,
    needs: frozenset[Capability],
    task: TaskKind,
    complexity: float,
) -> None:
    catalog, policy = bundled()
    try:
        result = plan_route(
            requested,
            features(tokens=tokens, output=output, needs=needs, task=task, complexity=complexity),
            catalog,
            policy,
        )
    except InvalidRequest:
        # Refused only when no capable model has room for the requested (or minimum) output.
        minimum = output or MIN_OUTPUT_TOKENS
        assert all(
            tokens + min(minimum, m.max_output) > m.context_window for m in catalog if m.can(needs)
        )
        return
    assert result.candidates
    for candidate in result.candidates:
        model = candidate.model
        assert model.can(needs), "never a model lacking a needed capability"
        needed_output = candidate.output_limit or MIN_OUTPUT_TOKENS
        assert model.fits(tokens, needed_output), "never a model whose window cannot hold it"
        if candidate.output_limit is not None:
            assert candidate.output_limit <= model.max_output
    # The chain spans two families whenever the catalog has two that could serve the request
    # under the same output allowance (the caller's limit and the route's cap).
    route = policy.routes.get(result.route)
    caps = [x for x in (output, route.max_output_tokens if route else None) if x is not None]

    def allowance(max_output: int) -> int:
        return min(*caps, max_output) if caps else min(policy.default_output_tokens, max_output)

    serving = {
        m.family for m in catalog if m.can(needs) and m.fits(tokens, allowance(m.max_output))
    }
    if len(serving) >= 2:
        assert len(result.families) >= 2
    assert result.reason.startswith(result.rule.split("/")[0])

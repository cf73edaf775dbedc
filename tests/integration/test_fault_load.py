"""2,000 calls at concurrency 50 with ~20% of upstream answers failing: no caller ever notices."""

from __future__ import annotations

from tests.support.fault_load import LOAD_FAULTS, LoadPlan, run_load
from tests.support.fault_stack import fault_stack

PLAN = LoadPlan(requests=2000, concurrency=50)


async def test_two_thousand_calls_through_twenty_percent_faults() -> None:
    with fault_stack() as stack:
        stack.put_faults("sim", LOAD_FAULTS)
        result = await run_load(stack.base_url, PLAN)
        stats = stack.stats("sim")
        markers, injected = stack.core("sim").markers, stack.core("sim").injected
    assert [(o.status, o.error) for o in result.errors] == []
    assert result.empty_answers == []
    assert result.not_answered_once == {}
    assert result.duplicate_completion_ids == []
    # Every call reached the upstream (some several times); the faults did happen.
    assert set(markers) == set(result.outcomes)
    assert stats["requests"] == sum(markers.values()) >= PLAN.requests
    assert 0.15 * stats["requests"] < sum(injected.values()) < 0.25 * stats["requests"]
    assert {"429", "500", "503", "reset", "cut", "empty", "reasoning_only"} <= set(injected)
    assert result.fallbacks > 0 and max(result.attempts) > 1
    assert 0.3 * PLAN.requests < len(result.streamed) < 0.5 * PLAN.requests

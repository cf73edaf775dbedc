"""Whole upstreams failing, per-model channels, breakers, and everything down, over real sockets."""

from __future__ import annotations

import time

import msgspec
import pytest

from tests.support.fault_client import GLM, MISTRAL, PRO
from tests.support.fault_script import status
from tests.support.fault_sdk import SDK_MESSAGES, sdk
from tests.support.fault_stack import FAST_RESILIENCE, Channel, FaultStack, fault_stack

DOWN = {"down": True}


def ask(stack: FaultStack, model: str = "glm-4-plus") -> dict[str, str]:
    raw = sdk(stack).chat.completions.with_raw_response.create(model=model, messages=SDK_MESSAGES)
    assert raw.parse().choices[0].message.content
    return dict(raw.headers)


# Long enough for a few calls to finish inside it even on a slow machine.
PATIENT = msgspec.structs.replace(
    FAST_RESILIENCE, upstream_cooldown_s=1.5, breaker_fail_max=3, breaker_reset_timeout_s=1.5
)


def test_a_region_down_is_served_by_the_other_and_reprobed_after_its_cooldown() -> None:
    regions = (Channel("eu", priority=0), Channel("us", priority=1))
    with fault_stack(*regions, resilience=PATIENT) as stack:
        stack.put_faults("eu", {"upstreams": {"eu": DOWN}})
        for _ in range(5):
            headers = ask(stack)
            # The other region serves the same model: neither a fallback nor a retry.
            assert headers["x-tiergate-model"] == GLM
            assert headers["x-tiergate-fallback"] == "false"
            assert headers["x-tiergate-attempts"] == "1"
        assert stack.stats("eu")["requests"] == 1  # benched after the first failure
        assert stack.stats("us")["requests"] == 5
        assert stack.healthy_upstreams() == {"eu": False, "us": True}
        stack.clear_faults("eu")
        time.sleep(PATIENT.upstream_cooldown_s + 0.1)
        ask(stack)
        assert stack.stats("eu")["requests"] == 2  # the probe, answered by the recovered eu
        assert stack.stats("us")["requests"] == 5
        assert stack.healthy_upstreams() == {"eu": True, "us": True}


def test_a_model_with_a_dedicated_channel_goes_there_first() -> None:
    channels = (
        Channel("general", priority=0),
        Channel("pro", priority=5, models=("deepseek-v4-pro",)),
    )
    with fault_stack(*channels) as stack:
        assert ask(stack, "deepseek-v4-pro")["x-tiergate-model"] == PRO
        ask(stack, "glm-4-plus")
        assert stack.stats("pro")["requests_by_model"] == {PRO: 1}
        assert stack.stats("general")["requests_by_model"] == {GLM: 1}
        # The channel failing, the general upstream still serves the same model.
        stack.put_faults("pro", {"upstreams": {"pro": DOWN}})
        headers = ask(stack, "deepseek-v4-pro")
        assert headers["x-tiergate-model"] == PRO and headers["x-tiergate-fallback"] == "false"
        assert stack.stats("general")["requests_by_model"] == {GLM: 1, PRO: 1}


@pytest.mark.parametrize("regions", [("sim",), ("eu", "us")])
def test_everything_down_is_a_clean_503_within_the_deadline(regions: tuple[str, ...]) -> None:
    channels = [Channel(name, priority=i) for i, name in enumerate(regions)]
    with fault_stack(*channels) as stack:
        for name in regions:
            stack.put_faults(name, {"models": {"*": DOWN}})
        for _ in range(3):  # the first failure, then with every upstream cooling down
            response, elapsed = stack.ask_within(2000)
            assert elapsed < 2.0
            assert response.status_code == 503
            assert int(response.headers["retry-after"]) >= 1
            assert response.json() == {
                "error": {
                    "message": response.json()["error"]["message"],
                    "type": "service_unavailable",
                    "param": None,
                    "code": "no_healthy_upstream",
                }
            }


def test_a_breaker_opens_after_the_configured_failures_and_closes_after_recovery() -> None:
    with fault_stack(resilience=PATIENT) as stack:
        stack.fault_model(GLM, status(500))
        assert ask(stack)["x-tiergate-model"] == MISTRAL  # three failures on glm: open
        assert stack.breaker_states()[("sim", GLM)] == "open"
        assert stack.model_requests("sim", GLM) == 3
        for _ in range(3):
            headers = ask(stack)
            assert headers["x-tiergate-model"] == MISTRAL
        assert stack.model_requests("sim", GLM) == 3  # open: glm is not even tried
        stack.clear_faults()
        time.sleep(PATIENT.breaker_reset_timeout_s + 0.1)
        assert stack.breaker_states()[("sim", GLM)] == "half-open"
        headers = ask(stack)
        assert headers["x-tiergate-model"] == GLM and headers["x-tiergate-fallback"] == "false"
        assert stack.breaker_states()[("sim", GLM)] == "closed"
        assert stack.model_requests("sim", GLM) == 4

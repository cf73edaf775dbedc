"""Faults on non-streaming calls, over real sockets: retries, fallback, deadlines, billing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from adapters.simulator import FaultSpec
from domain.catalog import Catalog
from domain.pricing import Usage, price
from tests.support.fault_client import FLASH, GLM, MISTRAL, PRO
from tests.support.fault_script import (
    CUT,
    EMPTY,
    HANG,
    REASONING_ONLY,
    RESET,
    FaultScript,
    status,
)
from tests.support.fault_sdk import SDK_MESSAGES, sdk
from tests.support.fault_stack import Channel, FaultStack, fault_stack, instant_core
from tests.support.instrumented_core import InstrumentedCore

BROKEN_CONNECTIONS = [pytest.param(RESET, id="reset"), pytest.param(CUT, id="cut-body")]
EMPTY_KINDS = [pytest.param(EMPTY, id="empty"), pytest.param(REASONING_ONLY, id="reasoning-only")]


@pytest.fixture
def stack() -> Iterator[FaultStack]:
    with fault_stack() as running:
        yield running


def ask_glm(stack: FaultStack, **headers: str) -> Any:  # the SDK's raw response
    return sdk(stack).chat.completions.with_raw_response.create(
        model="glm-4-plus",
        messages=SDK_MESSAGES,
        extra_headers=headers or None,
    )


def cost_of(catalog: Catalog, model_id: str, prompt: int, completion: int) -> Decimal:
    model = catalog.find(model_id)
    assert model is not None
    return price(model, Usage(input_tokens=prompt, output_tokens=completion))


def test_429_waits_for_retry_after_then_succeeds(stack: FaultStack) -> None:
    FaultScript({GLM: [status(429, retry_after_s=0.4)]}).install(stack.core("sim"))
    started = time.monotonic()
    raw = ask_glm(stack)
    elapsed = time.monotonic() - started
    assert raw.parse().choices[0].message.content
    # retry-after-ms (400) is preferred over the rounded-up Retry-After: 1.
    assert 0.4 <= elapsed < 0.9
    assert raw.headers["x-tiergate-attempts"] == "2"
    assert raw.headers["x-tiergate-model"] == GLM
    assert raw.headers["x-tiergate-fallback"] == "false"
    assert stack.model_requests("sim", GLM) == 2


def test_retry_after_beyond_the_limit_falls_back_at_once(stack: FaultStack) -> None:
    stack.fault_model(GLM, status(429, retry_after_s=60))  # max_retry_after_s is 5
    started = time.monotonic()
    raw = ask_glm(stack)
    assert time.monotonic() - started < 1.0
    assert raw.headers["x-tiergate-model"] == MISTRAL
    assert raw.headers["x-tiergate-fallback"] == "true"
    assert stack.model_requests("sim", GLM) == 1


@pytest.mark.parametrize("code", [500, 502, 503, 504])
def test_5xx_is_retried_then_succeeds(stack: FaultStack, code: int) -> None:
    FaultScript({GLM: [status(code), status(code)]}).install(stack.core("sim"))
    raw = ask_glm(stack)
    assert raw.parse().choices[0].message.content
    assert raw.headers["x-tiergate-model"] == GLM
    assert raw.headers["x-tiergate-attempts"] == "3"
    assert raw.headers["x-tiergate-fallback"] == "false"


@pytest.mark.parametrize("code", [500, 502, 503, 504])
def test_persistent_5xx_falls_back_to_another_model(stack: FaultStack, code: int) -> None:
    stack.fault_model(GLM, status(code))
    raw = ask_glm(stack)
    assert raw.parse().choices[0].message.content
    assert raw.headers["x-tiergate-model"] == MISTRAL
    assert raw.headers["x-tiergate-fallback"] == "true"
    assert raw.headers["x-tiergate-attempts"] == "4"  # three on glm, one on mistral
    assert stack.model_requests("sim", GLM) == 3


@pytest.mark.parametrize("fault", BROKEN_CONNECTIONS)
def test_broken_connection_is_retried_on_the_same_model(
    stack: FaultStack, fault: FaultSpec
) -> None:
    # With one upstream, a broken connection must not bench it (and every model with it).
    FaultScript({GLM: [fault]}).install(stack.core("sim"))
    raw = ask_glm(stack)
    assert raw.parse().choices[0].message.content
    assert raw.headers["x-tiergate-model"] == GLM
    assert raw.headers["x-tiergate-attempts"] == "2"
    other = sdk(stack).chat.completions.create(model="qwen3-32b", messages=SDK_MESSAGES)
    assert other.choices[0].message.content


@pytest.mark.parametrize("fault", BROKEN_CONNECTIONS)
def test_persistently_broken_connections_fall_back(stack: FaultStack, fault: FaultSpec) -> None:
    stack.fault_model(GLM, fault)
    raw = ask_glm(stack)
    assert raw.headers["x-tiergate-model"] == MISTRAL
    assert raw.headers["x-tiergate-fallback"] == "true"
    assert stack.model_requests("sim", GLM) == 3


def test_a_hang_past_the_callers_deadline_is_a_clean_504_in_time(stack: FaultStack) -> None:
    stack.fault_model(GLM, HANG)
    response, elapsed = stack.ask_within(600)
    assert 0.6 <= elapsed < 1.0
    assert response.status_code == 504
    error = response.json()["error"]
    assert error["type"] == "timeout_error" and error["code"] == "upstream_timeout"
    assert set(error) == {"message", "type", "param", "code"}


def test_a_hang_within_the_callers_deadline_falls_back() -> None:
    with fault_stack(Channel("sim", read_timeout_s=0.2)) as stack:
        stack.fault_model(GLM, HANG)
        started = time.monotonic()
        raw = ask_glm(stack, **{"x-tiergate-timeout-ms": "3000"})
        elapsed = time.monotonic() - started
        assert raw.parse().choices[0].message.content
        assert raw.headers["x-tiergate-model"] == MISTRAL
        assert raw.headers["x-tiergate-fallback"] == "true"
        assert 0.6 <= elapsed < 3.0  # three attempts of 0.2 s on glm, then mistral


def test_timeout_header_must_be_a_number(stack: FaultStack) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        ask_glm(stack, **{"x-tiergate-timeout-ms": "soon"})
    assert raised.value.param == "x-tiergate-timeout-ms"


@pytest.mark.parametrize("fault", EMPTY_KINDS)
def test_empty_completion_falls_through_and_is_billed(stack: FaultStack, fault: FaultSpec) -> None:
    stack.fault_model(GLM, fault)
    raw = ask_glm(stack)
    answer = raw.parse()
    assert answer.choices[0].message.content
    assert raw.headers["x-tiergate-model"] == MISTRAL
    assert raw.headers["x-tiergate-fallback"] == "true"
    assert raw.headers["x-tiergate-attempts"] == "2"
    assert stack.model_requests("sim", GLM) == 1  # an empty answer is not retried on glm
    usage = answer.usage
    assert usage is not None
    catalog = stack.gateway.container.catalog()
    mistral = cost_of(catalog, MISTRAL, usage.prompt_tokens, usage.completion_tokens)
    glm_prompt = cost_of(catalog, GLM, usage.prompt_tokens, 0)  # the empty answer's input
    assert Decimal(raw.headers["x-tiergate-cost-usd"]) >= mistral + glm_prompt > mistral


def test_cascade_bills_every_escalated_attempt(stack: FaultStack) -> None:
    # max_tokens 5 ends every answer with finish_reason "length": escalate to the last model.
    raw = sdk(stack).chat.completions.with_raw_response.create(
        model="cascade",
        messages=SDK_MESSAGES,
        max_tokens=5,
    )
    usage = raw.parse().usage
    assert usage is not None and usage.completion_tokens == 5
    assert raw.headers["x-tiergate-model"] == PRO
    assert raw.headers["x-tiergate-attempts"] == "3"
    catalog = stack.gateway.container.catalog()
    every = sum(cost_of(catalog, m, usage.prompt_tokens, 5) for m in (GLM, FLASH, PRO))
    assert Decimal(raw.headers["x-tiergate-cost-usd"]) == every


def _small_glm(catalog: Catalog) -> InstrumentedCore:
    """The upstream's glm holds 1,000 tokens; the gateway's catalog says 131,072."""
    models = tuple(
        replace(m, context_window=1000, max_output=500) if m.id == GLM else m for m in catalog
    )
    core = instant_core(Catalog(models=models))
    assert isinstance(core, InstrumentedCore)
    return core


def test_a_window_too_small_upstream_falls_back_to_the_next_model() -> None:
    """The catalog overstates glm's window; the upstream's 400 context_length_exceeded is about
    the model, not the request, so the next candidate answers."""
    with fault_stack(core=_small_glm) as stack:
        long_prompt: list[ChatCompletionMessageParam] = [
            {"role": "user", "content": "tide pools " * 800}
        ]
        raw = sdk(stack).chat.completions.with_raw_response.create(
            model="glm-4-plus", messages=long_prompt
        )
        assert raw.parse().choices[0].message.content
        assert raw.headers["x-tiergate-model"] != GLM
        assert raw.headers["x-tiergate-fallback"] == "true"
        assert stack.stats("sim")["requests_by_model"][GLM] == 1


def test_without_fallback_the_upstreams_verdict_reaches_the_caller() -> None:
    with fault_stack(core=_small_glm) as stack:
        long_prompt: list[ChatCompletionMessageParam] = [
            {"role": "user", "content": "tide pools " * 800}
        ]
        with pytest.raises(openai.BadRequestError) as raised:
            sdk(stack).chat.completions.create(
                model="glm-4-plus",
                messages=long_prompt,
                extra_headers={"x-tiergate-fallback": "off"},
            )
        assert "maximum context length" in raised.value.message
        assert raised.value.code == "context_length_exceeded"
        assert raised.value.param == "messages"
        assert stack.stats("sim")["requests_by_model"] == {GLM: 1}

"""Faults on streaming calls, over real sockets: fail over before the first content, never after."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal

import httpx
import openai
import pytest

from adapters.simulator import FaultSpec, LatencyModel
from domain.catalog import Catalog
from domain.pricing import Usage, price
from tests.support.fault_client import GLM, MESSAGES, MISTRAL, chat_body
from tests.support.fault_script import CUT, EMPTY, REASONING_ONLY, FaultScript, status
from tests.support.fault_sdk import SDK_MESSAGES, sdk
from tests.support.fault_stack import FaultStack, fault_stack
from tests.support.instrumented_core import InstrumentedCore

EMPTY_KINDS = [pytest.param(EMPTY, id="empty"), pytest.param(REASONING_ONLY, id="reasoning-only")]


@pytest.fixture
def stack() -> Iterator[FaultStack]:
    with fault_stack() as running:
        yield running


def open_glm_stream(
    stack: FaultStack,
) -> tuple[dict[str, str], list[openai.types.chat.ChatCompletionChunk]]:
    client = sdk(stack)
    raw = client.chat.completions.with_raw_response.create(
        model="glm-4-plus",
        messages=SDK_MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    return dict(raw.headers), list(raw.parse())


def text_of(chunks: list[openai.types.chat.ChatCompletionChunk]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


@pytest.mark.parametrize("fault", EMPTY_KINDS)
def test_empty_stream_never_reaches_the_client(stack: FaultStack, fault: FaultSpec) -> None:
    stack.fault_model(GLM, fault)
    headers, chunks = open_glm_stream(stack)
    assert text_of(chunks)
    assert headers["x-tiergate-model"] == MISTRAL
    assert headers["x-tiergate-fallback"] == "true"
    assert headers["x-tiergate-attempts"] == "2"
    # The usage chunk's cost bills the empty attempt too (its prompt was read).
    usage = chunks[-1].usage
    assert usage is not None
    catalog: Catalog = stack.gateway.container.catalog()
    mistral, glm = catalog.find(MISTRAL), catalog.find(GLM)
    assert mistral is not None and glm is not None
    own = price(mistral, Usage(usage.prompt_tokens, usage.completion_tokens))
    empty_input = price(glm, Usage(usage.prompt_tokens, 0))
    cost = Decimal(str((usage.model_extra or {})["cost"]))
    assert cost >= own + empty_input > own


def test_cut_before_the_first_content_fails_over_transparently(stack: FaultStack) -> None:
    stack.core("sim").cut_before_content(GLM)
    headers, chunks = open_glm_stream(stack)
    assert text_of(chunks)
    assert headers["x-tiergate-model"] == MISTRAL
    assert headers["x-tiergate-fallback"] == "true"
    assert stack.stats("sim")["streams_cut"] == 1


def test_cut_after_content_is_an_error_in_the_sdk_not_a_short_answer(stack: FaultStack) -> None:
    stack.fault_model(GLM, CUT)
    client = sdk(stack)
    stream = client.chat.completions.create(model="glm-4-plus", messages=SDK_MESSAGES, stream=True)
    received: list[str] = []
    with pytest.raises(openai.APIError, match="stream failed mid-way"):
        received.extend(chunk.choices[0].delta.content or "" for chunk in stream)
    assert "".join(received)  # content had reached the client: too late to fail over
    assert stack.model_requests("sim", MISTRAL) == 0


def test_a_retried_stream_counts_every_attempt(stack: FaultStack) -> None:
    FaultScript({GLM: [status(503)]}).install(stack.core("sim"))
    headers, chunks = open_glm_stream(stack)
    assert text_of(chunks)
    assert headers["x-tiergate-model"] == GLM
    assert headers["x-tiergate-attempts"] == "2"


async def _hang_up(client: httpx.AsyncClient, *, after_first_chunk: bool) -> None:
    body = chat_body("glm-4-plus", stream=True)
    if not after_first_chunk:
        # Gone while the gateway still waits for the upstream's first token.
        with pytest.raises(httpx.TimeoutException):  # connect or read, by load
            await client.post("/v1/chat/completions", json=body, timeout=0.05)
        return
    async with client.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        async for _ in response.aiter_bytes():
            break  # closing the response now drops the connection mid-stream


def _slow_core(catalog: Catalog) -> InstrumentedCore:
    slow = LatencyModel(ttft_median_s=0.15, ttft_sigma=0.0, tokens_per_s=40.0, tail_rate=0.0)
    return InstrumentedCore(catalog=catalog, latency=slow, reply_tokens=(300, 400))


async def test_a_burst_of_client_disconnects_leaves_every_breaker_closed() -> None:
    with fault_stack(core=_slow_core) as stack:
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=10) as client:
            await asyncio.gather(
                *(_hang_up(client, after_first_chunk=True) for _ in range(30)),
                *(_hang_up(client, after_first_chunk=False) for _ in range(10)),
            )
            for _ in range(100):  # until the gateway has closed every upstream stream
                stats = stack.stats("sim")
                if stats["streams_client_closed"] + stats["streams_completed"] >= 40:
                    break
                await asyncio.sleep(0.05)
            assert stats["streams_client_closed"] >= 30
            states = stack.breaker_states()
            assert states and set(states.values()) == {"closed"}
            assert stack.healthy_upstreams() == {"sim": True}
            short = {"model": "glm-4-plus", "messages": MESSAGES, "max_tokens": 5}
            answer = await client.post("/v1/chat/completions", json=short)
            assert answer.status_code == 200
            assert answer.headers["x-tiergate-attempts"] == "1"

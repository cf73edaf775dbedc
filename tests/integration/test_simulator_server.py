"""The simulator over real sockets, driven by httpx and the official openai SDK."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from adapters.simulator import LatencyModel, SimulatorCore, default_sim_catalog
from tests.support.simulator_server import RunningSimulator, running_simulator

MODEL = "Qwen/Qwen3-8B"
MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "How do I reset my password?"}
]


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with running_simulator(name="sim") as running:
        yield running


@pytest.fixture(autouse=True)
def clean_slate(sim: RunningSimulator) -> None:
    httpx.delete(sim.base_url + "/_sim/faults").raise_for_status()
    httpx.post(sim.base_url + "/_sim/reset").raise_for_status()


@pytest.fixture
async def http(sim: RunningSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=5.0) as client:
        yield client


@pytest.fixture
async def sdk(sim: RunningSimulator) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(base_url=sim.openai_base_url, api_key="sk-test", max_retries=0)
    async with client:
        yield client


async def set_faults(http: httpx.AsyncClient, book: dict[str, Any]) -> None:
    response = await http.put("/_sim/faults", json=book)
    response.raise_for_status()
    assert response.json() == book


async def stats(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get("/_sim/stats")
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


async def stats_once(
    http: httpx.AsyncClient, condition: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """Poll the server's counters until `condition` holds (or ~3 s pass)."""
    for _ in range(150):
        counters = await stats(http)
        if condition(counters):
            break
        await asyncio.sleep(0.02)
    return counters


async def test_httpx_completion_has_openai_shape(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/chat/completions", json={"model": MODEL, "messages": MESSAGES})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["object"] == "chat.completion"
    assert (body["system_fingerprint"], body["provider"]) == ("fp_sim", "tiergate-sim")
    assert body["usage"]["prompt_tokens"] == len("How do I reset my password?") // 4 + 4
    assert (await stats(http))["requests_by_model"] == {MODEL: 1}


async def test_sdk_completion_and_extra_fields(sdk: openai.AsyncOpenAI) -> None:
    reply = await sdk.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=6)
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage is not None
    assert reply.usage.completion_tokens == 6
    assert reply.system_fingerprint == "fp_sim"
    assert (reply.model_extra or {})["provider"] == "tiergate-sim"


async def test_sdk_stream_with_include_usage(sdk: openai.AsyncOpenAI) -> None:
    plain = await sdk.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=30)
    stream = await sdk.chat.completions.create(
        model=MODEL,
        messages=MESSAGES,
        max_tokens=30,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 30
    assert all(c.usage is None for c in chunks[:-1])


async def test_raw_stream_is_sse_ending_with_done(http: httpx.AsyncClient) -> None:
    body = {"model": MODEL, "messages": MESSAGES, "stream": True}
    async with http.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line async for line in response.aiter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    assert all(line.startswith("data: {") for line in lines[:-1])
    counters = await stats(http)
    assert (counters["streams_opened"], counters["streams_completed"]) == (1, 1)


async def test_runtime_429_carries_retry_after(
    http: httpx.AsyncClient, sdk: openai.AsyncOpenAI
) -> None:
    await set_faults(http, {"models": {"*": {"errors": {"429": 1.0}, "retry_after_s": 1.5}}})
    response = await http.post("/v1/chat/completions", json={"model": MODEL, "messages": MESSAGES})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.headers["retry-after-ms"] == "1500"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"
    with pytest.raises(openai.RateLimitError):
        await sdk.chat.completions.create(model=MODEL, messages=MESSAGES)


async def test_runtime_503_for_one_model_only(
    http: httpx.AsyncClient, sdk: openai.AsyncOpenAI
) -> None:
    await set_faults(http, {"models": {MODEL: {"errors": {"503": 1.0}}}})
    with pytest.raises(openai.InternalServerError) as caught:
        await sdk.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert caught.value.status_code == 503
    other = await sdk.chat.completions.create(model="Qwen/Qwen3-32B", messages=MESSAGES)
    assert other.choices[0].message.content


async def test_mid_stream_cut_surfaces_as_an_error_in_the_sdk(
    http: httpx.AsyncClient, sdk: openai.AsyncOpenAI
) -> None:
    await set_faults(http, {"models": {"*": {"cut_rate": 1.0}}})
    stream = await sdk.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    received: list[str] = []

    async def drain() -> None:
        async for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")

    with pytest.raises((httpx.TransportError, openai.APIError)):
        await drain()
    assert "".join(received)
    assert (await stats(http))["streams_cut"] == 1


async def test_reset_and_down_drop_the_connection(
    http: httpx.AsyncClient, sdk: openai.AsyncOpenAI
) -> None:
    await set_faults(http, {"models": {"*": {"reset_rate": 1.0}}})
    with pytest.raises(openai.APIConnectionError):
        await sdk.chat.completions.create(model=MODEL, messages=MESSAGES)
    await set_faults(http, {"upstreams": {"sim": {"down": True}}})
    async with httpx.AsyncClient(base_url=str(http.base_url)) as fresh:
        with pytest.raises(httpx.TransportError):
            await fresh.post("/v1/chat/completions", json={"model": MODEL, "messages": MESSAGES})
    await set_faults(http, {"upstreams": {"elsewhere": {"down": True}}})
    assert (await sdk.chat.completions.create(model=MODEL, messages=MESSAGES)).choices
    assert (await stats(http))["faults"] == {"reset": 1, "down": 1}


async def test_hang_never_answers(http: httpx.AsyncClient) -> None:
    await set_faults(http, {"models": {"*": {"hang_rate": 1.0}}})
    body = {"model": MODEL, "messages": MESSAGES}
    with pytest.raises(httpx.ReadTimeout):
        await http.post("/v1/chat/completions", json=body, timeout=0.2)
    assert (await stats(http))["faults"] == {"hang": 1}


async def test_empty_and_unknown_model_and_bad_faults(
    http: httpx.AsyncClient, sdk: openai.AsyncOpenAI
) -> None:
    await set_faults(http, {"models": {"*": {"empty_rate": 1.0}}})
    empty = await sdk.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert empty.choices[0].message.content == ""
    assert not empty.choices[0].message.tool_calls
    with pytest.raises(openai.NotFoundError) as caught:
        await sdk.chat.completions.create(model="nope/unknown", messages=MESSAGES)
    assert caught.value.code == "model_not_found"
    rejected = await http.put("/_sim/faults", json={"models": {"*": {"hang_rate": 2}}})
    assert rejected.status_code == 400


async def test_last_request_keeps_exact_bytes_and_hides_the_key(
    http: httpx.AsyncClient,
) -> None:
    raw = b'{"model": "Qwen/Qwen3-8B", "messages": [], "x_unknown": {"keep": [1, 2.50]}}'
    headers = {
        "authorization": "Bearer sk-very-secret",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "content-type": "application/json",
    }
    await http.post("/v1/chat/completions", content=raw, headers=headers)
    response = await http.get("/_sim/last-request")
    last = response.json()
    assert base64.b64decode(last["body_base64"]) == raw
    assert last["body"] == raw.decode()
    assert last["headers"]["traceparent"] == headers["traceparent"]
    assert last["authorization_present"] is True
    assert "authorization" not in last["headers"]
    assert "sk-very-secret" not in response.text
    assert (await stats(http))["requests_with_authorization"] == 1


async def test_sdk_embeddings_and_models(sdk: openai.AsyncOpenAI) -> None:
    result = await sdk.embeddings.create(
        model="text-embedding-3-small",
        input=["How do I reset my password?", "how can I reset my password", "Capital of Peru"],
    )
    first, second, third = (d.embedding for d in result.data)
    assert len(first) == 256

    def dot(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert dot(first, second) >= 0.92
    assert dot(first, third) < 0.5
    models = [m.id async for m in sdk.models.list()]
    assert MODEL in models
    assert len(models) == len(default_sim_catalog())


async def test_unknown_path_and_health(http: httpx.AsyncClient) -> None:
    assert (await http.get("/nope")).status_code == 404
    assert (await http.get("/healthz")).json() == {"status": "ok", "name": "sim"}


@pytest.fixture(scope="module")
def slow_sim() -> Iterator[RunningSimulator]:
    """150 tokens per second after ~10 ms, so a 150-token stream lasts about a second."""
    latency = LatencyModel(ttft_median_s=0.01, ttft_sigma=0.01, tokens_per_s=150, tail_rate=0)
    core = SimulatorCore(catalog=default_sim_catalog(), latency=latency, reply_tokens=(150, 150))
    with running_simulator(core, name="slow") as running:
        yield running


async def test_paced_stream_arrives_at_the_token_rate(slow_sim: RunningSimulator) -> None:
    client = openai.AsyncOpenAI(base_url=slow_sim.openai_base_url, api_key="k", max_retries=0)
    async with client:
        started = time.perf_counter()
        stream = await client.chat.completions.create(
            model=MODEL, messages=MESSAGES, max_tokens=30, stream=True
        )
        arrivals = [time.perf_counter() - started async for _ in stream]
    assert arrivals[0] < 0.15
    assert 0.15 < arrivals[-1] < 0.6  # 30 tokens at 150/s
    assert slow_sim.app.stats.streams_completed >= 1


async def test_client_disconnect_mid_stream_is_counted(slow_sim: RunningSimulator) -> None:
    body = {"model": MODEL, "messages": MESSAGES, "stream": True}
    async with httpx.AsyncClient(base_url=slow_sim.base_url) as client:
        (await client.post("/_sim/reset")).raise_for_status()
        async with client.stream("POST", "/v1/chat/completions", json=body) as response:
            lines = response.aiter_lines()
            assert (await anext(lines)).startswith("data: ")
        counters = await stats_once(client, lambda c: c["streams_client_closed"] > 0)
    assert counters["streams_opened"] == 1
    assert counters["streams_client_closed"] == 1
    assert counters["streams_completed"] == 0

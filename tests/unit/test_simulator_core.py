"""The simulator core and its in-process adapter: content, usage, streaming, faults, embeddings."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import random
import struct
import time
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.simulator import (
    FaultBook,
    FaultSpec,
    LatencyModel,
    SimulatedChatUpstream,
    SimulatorCore,
    default_sim_catalog,
)
from adapters.simulator.embeddings import DIMENSIONS, embed_text
from adapters.simulator.faults import FaultKind
from adapters.simulator.latency import INSTANT
from adapters.simulator.outcomes import Disruption, Failure, Reply, StreamReply
from domain.errors import UpstreamConnectionError, UpstreamHTTPError, UpstreamTimeout
from domain.ports import ChatUpstream, UpstreamCall

MODEL = "Qwen/Qwen3-8B"  # 32K context


def make_core(**overrides: Any) -> SimulatorCore:
    options: dict[str, Any] = {"catalog": default_sim_catalog(), "latency": LatencyModel.zero()}
    options.update(overrides)
    return SimulatorCore(**options)


def chat_body(content: str = "How do I reset my password?", /, **fields: Any) -> bytes:
    body: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": content}]}
    body.update(fields)
    return json.dumps(body).encode()


def completion(core: SimulatorCore, body: bytes, upstream: str = "sim") -> dict[str, Any]:
    outcome = core.chat(body, upstream=upstream)
    assert isinstance(outcome, Reply), outcome
    decoded: dict[str, Any] = json.loads(outcome.body)
    return decoded


def stream_payloads(core: SimulatorCore, body: bytes) -> list[dict[str, Any]]:
    outcome = core.chat(body, upstream="sim")
    assert isinstance(outcome, StreamReply), outcome
    return [json.loads(chunk) for chunk in outcome.chunks]


def failure(core: SimulatorCore, body: bytes) -> tuple[int, dict[str, Any]]:
    outcome = core.chat(body, upstream="sim")
    assert isinstance(outcome, Failure), outcome
    return outcome.status, json.loads(outcome.body)["error"]


def call(body: bytes, timeout_s: float = 5.0) -> UpstreamCall:
    return UpstreamCall(model=MODEL, body=body, timeout_s=timeout_s)


def cosine(a: str, b: str) -> float:
    return sum(x * y for x, y in zip(embed_text(a), embed_text(b), strict=True))


# --- content and determinism -------------------------------------------------------------


def test_same_seed_and_request_give_the_same_completion() -> None:
    first = completion(make_core(seed=7), chat_body())
    second = completion(make_core(seed=7), chat_body())
    assert first["choices"] == second["choices"]
    assert first["usage"] == second["usage"]


def test_a_different_seed_or_prompt_changes_the_text() -> None:
    base = completion(make_core(seed=7), chat_body())["choices"][0]["message"]["content"]
    other_seed = completion(make_core(seed=8), chat_body())["choices"][0]["message"]["content"]
    other_prompt = completion(make_core(seed=7), chat_body("Tell me about caching"))
    assert base != other_seed
    assert base != other_prompt["choices"][0]["message"]["content"]


def test_completion_has_openai_shape_plus_passthrough_fields() -> None:
    reply = completion(make_core(), chat_body())
    assert reply["object"] == "chat.completion"
    assert reply["id"].startswith("chatcmpl-")
    assert reply["model"] == MODEL
    assert reply["system_fingerprint"] == "fp_sim"
    assert reply["provider"] == "tiergate-sim"
    choice = reply["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"].strip()
    assert choice["logprobs"] is None


def test_usage_counts_prompt_chars_over_four_plus_four_per_message() -> None:
    messages = [
        {"role": "system", "content": "You are terse."},  # 14 chars -> 3 + 4
        {"role": "user", "content": [{"type": "text", "text": "x" * 40}]},  # 10 + 4
    ]
    body = json.dumps({"model": MODEL, "messages": messages, "max_tokens": 9}).encode()
    usage = completion(make_core(), body)["usage"]
    assert usage["prompt_tokens"] == (3 + 4) + (10 + 4)
    assert usage["completion_tokens"] == 9
    assert usage["total_tokens"] == usage["prompt_tokens"] + 9


@pytest.mark.parametrize("limit_field", ["max_tokens", "max_completion_tokens"])
def test_finish_reason_is_length_when_the_token_limit_cuts_the_reply(limit_field: str) -> None:
    reply = completion(make_core(), chat_body(**{limit_field: 5}))
    assert reply["choices"][0]["finish_reason"] == "length"
    assert reply["usage"]["completion_tokens"] == 5
    assert len(reply["choices"][0]["message"]["content"].split()) == 5


def test_finish_reason_is_stop_when_the_reply_ends_naturally() -> None:
    core = make_core(reply_tokens=(30, 30))
    reply = completion(core, chat_body(max_tokens=500))
    assert reply["choices"][0]["finish_reason"] == "stop"
    assert reply["usage"]["completion_tokens"] == 30
    assert reply["choices"][0]["message"]["content"].endswith(".")


def test_n_choices_differ_and_usage_adds_them_up() -> None:
    reply = completion(make_core(), chat_body(n=2, max_tokens=12))
    first, second = (c["message"]["content"] for c in reply["choices"])
    assert first != second
    assert [c["index"] for c in reply["choices"]] == [0, 1]
    assert reply["usage"]["completion_tokens"] == 24


def test_json_object_mode_returns_a_json_object() -> None:
    body = chat_body("Weather in Paris?", response_format={"type": "json_object"})
    content = completion(make_core(), body)["choices"][0]["message"]["content"]
    assert isinstance(json.loads(content), dict)


def test_json_schema_mode_follows_the_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
            "unit": {"enum": ["c", "f"]},
            "alerts": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "place": {"$ref": "#/$defs/place"},
        },
        "required": ["city", "days", "unit", "alerts", "place"],
        "$defs": {"place": {"type": "object", "properties": {"lat": {"type": "number"}}}},
    }
    response_format = {"type": "json_schema", "json_schema": {"name": "w", "schema": schema}}
    body = chat_body("Forecast for Paris", response_format=response_format)
    document = json.loads(completion(make_core(), body)["choices"][0]["message"]["content"])
    assert isinstance(document["city"], str)
    assert 1 <= document["days"] <= 7
    assert document["unit"] in ("c", "f")
    assert len(document["alerts"]) >= 1
    assert isinstance(document["place"]["lat"], float)


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
TIME_TOOL = {"type": "function", "function": {"name": "get_time", "parameters": {}}}


def test_required_tool_choice_returns_a_tool_call() -> None:
    body = chat_body("Weather in Paris?", tools=[WEATHER_TOOL], tool_choice="required")
    choice = completion(make_core(), body)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (tool_call,) = choice["message"]["tool_calls"]
    assert tool_call["type"] == "function"
    assert tool_call["id"].startswith("call_")
    assert tool_call["function"]["name"] == "get_weather"
    assert isinstance(json.loads(tool_call["function"]["arguments"])["city"], str)


def test_named_tool_choice_calls_that_function() -> None:
    choice_field = {"type": "function", "function": {"name": "get_time"}}
    body = chat_body("What time?", tools=[WEATHER_TOOL, TIME_TOOL], tool_choice=choice_field)
    choice = completion(make_core(), body)["choices"][0]
    assert choice["message"]["tool_calls"][0]["function"]["name"] == "get_time"
    assert choice["finish_reason"] == "stop"


def test_auto_tool_choice_answers_with_text() -> None:
    body = chat_body("Weather in Paris?", tools=[WEATHER_TOOL], tool_choice="auto")
    message = completion(make_core(), body)["choices"][0]["message"]
    assert message["content"]
    assert "tool_calls" not in message


@settings(max_examples=40, deadline=None)
@given(text=st.text(max_size=300), max_tokens=st.integers(min_value=1, max_value=400))
def test_usage_is_consistent_for_any_prompt(text: str, max_tokens: int) -> None:
    reply = completion(make_core(), chat_body(text, max_tokens=max_tokens))
    usage = reply["usage"]
    assert usage["prompt_tokens"] == len(text) // 4 + 4
    assert 1 <= usage["completion_tokens"] <= max_tokens
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    if reply["choices"][0]["finish_reason"] == "length":
        assert usage["completion_tokens"] == max_tokens
    else:
        assert usage["completion_tokens"] >= min(24, max_tokens)


# --- errors from the core -----------------------------------------------------------------


def test_unknown_model_is_404_model_not_found() -> None:
    status, error = failure(make_core(), chat_body(model="nope/unknown"))
    assert status == 404
    assert error["code"] == "model_not_found"


def test_prompt_plus_max_tokens_over_the_context_window_is_400() -> None:
    long_prompt = "word " * 25_000  # ~31K tokens, fits 32K alone
    assert isinstance(make_core().chat(chat_body(long_prompt), upstream="sim"), Reply)
    status, error = failure(make_core(), chat_body(long_prompt, max_tokens=4000))
    assert status == 400
    assert error["code"] == "context_length_exceeded"


@pytest.mark.parametrize("body", [b"{not json", b'{"model": 3}', chat_body(messages=[])])
def test_malformed_bodies_are_400(body: bytes) -> None:
    status, error = failure(make_core(), body)
    assert status == 400
    assert error["type"] == "invalid_request_error"


# --- streaming ----------------------------------------------------------------------------


def test_stream_carries_the_same_text_as_the_plain_reply() -> None:
    core = make_core()
    plain = completion(core, chat_body(max_tokens=40))["choices"][0]["message"]["content"]
    chunks = stream_payloads(core, chat_body(max_tokens=40, stream=True))
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    streamed = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert streamed == plain
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert all("usage" not in c for c in chunks)


def test_stream_with_include_usage_ends_with_a_usage_chunk() -> None:
    body = chat_body(max_tokens=10, stream=True, stream_options={"include_usage": True})
    chunks = stream_payloads(make_core(), body)
    *content, last = chunks
    assert last["choices"] == []
    assert last["usage"]["completion_tokens"] == 10
    assert all(c["usage"] is None for c in content)


def test_stream_chunks_knob_gives_exactly_that_many_content_chunks() -> None:
    chunks = stream_payloads(make_core(stream_chunks=20), chat_body(stream=True))
    content = [c for c in chunks if c["choices"][0]["delta"].get("content")]
    assert len(content) == 20
    assert len(chunks) == 22  # role chunk + 20 + finish chunk


def test_streamed_tool_call_opens_with_name_then_streams_arguments() -> None:
    body = chat_body("Weather?", tools=[WEATHER_TOOL], tool_choice="required", stream=True)
    chunks = stream_payloads(make_core(), body)
    opening = chunks[0]["choices"][0]["delta"]["tool_calls"][0]
    assert opening["function"] == {"name": "get_weather", "arguments": ""}
    arguments = "".join(
        c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] for c in chunks[1:-1]
    )
    assert isinstance(json.loads(arguments), dict)
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


# --- faults in the core -------------------------------------------------------------------


def test_error_rate_is_honoured_and_reproducible_under_the_seed() -> None:
    book = FaultBook.everywhere(FaultSpec(errors={429: 0.2, 503: 0.1}))

    def statuses(seed: int) -> list[int]:
        core = make_core(seed=seed, faults=book)
        outcomes = [core.chat(chat_body(), upstream="sim") for _ in range(2000)]
        return [o.status if isinstance(o, Failure) else 200 for o in outcomes]

    first = statuses(3)
    assert first == statuses(3)
    assert first != statuses(4)
    assert 0.17 < first.count(429) / 2000 < 0.23
    assert 0.08 < first.count(503) / 2000 < 0.12


def test_fault_book_matches_models_and_upstreams_and_wildcards() -> None:
    book = FaultBook(
        models={MODEL: FaultSpec(errors={503: 1.0}), "*": FaultSpec(errors={429: 1.0})},
        upstreams={"eu": FaultSpec(down=True)},
    )
    core = make_core(faults=book)
    assert failure(core, chat_body())[0] == 503
    assert failure(core, chat_body(model="Qwen/Qwen3-32B"))[0] == 429
    assert core.chat(chat_body(), upstream="eu") == Disruption(kind=FaultKind.DOWN)


def test_fault_book_json_round_trips_and_rejects_bad_rates() -> None:
    text = '{"models": {"*": {"errors": {"429": 0.5}, "retry_after_s": 2}}}'
    book = FaultBook.from_json(text)
    assert book.models["*"].errors == {429: 0.5}
    assert FaultBook.from_json(book.to_json()) == book
    with pytest.raises(msgspec.ValidationError):
        FaultBook.from_json('{"models": {"*": {"hang_rate": 1.5}}}')
    with pytest.raises(msgspec.ValidationError):
        FaultBook.from_json('{"models": {"*": {"typo_rate": 0.5}}}')


def test_combined_specs_compound_rates_and_keep_the_strongest_overrides() -> None:
    upstream = FaultSpec(errors={429: 0.5}, retry_after_s=1.0, extra_latency_s=0.1)
    model = FaultSpec(errors={429: 0.5, 500: 0.1}, retry_after_s=3.0, extra_latency_s=0.2)
    both = upstream.combine(model)
    assert both.errors == {429: 0.75, 500: 0.1}
    assert both.retry_after_s == 3.0
    assert both.extra_latency_s == pytest.approx(0.3)


def test_faults_can_be_replaced_at_runtime() -> None:
    core = make_core()
    assert isinstance(core.chat(chat_body(), upstream="sim"), Reply)
    core.faults = FaultBook.everywhere(FaultSpec(errors={500: 1.0}))
    assert failure(core, chat_body())[0] == 500
    core.faults = FaultBook()
    assert isinstance(core.chat(chat_body(), upstream="sim"), Reply)


# --- the in-process adapter ---------------------------------------------------------------


def adapter(spec: FaultSpec | None = None, **core_options: Any) -> SimulatedChatUpstream:
    faults = FaultBook.everywhere(spec) if spec is not None else FaultBook()
    return SimulatedChatUpstream(make_core(faults=faults, **core_options), name="sim-eu")


async def test_adapter_completes_with_the_core_body() -> None:
    port: ChatUpstream = adapter()  # mypy checks the adapter against the port
    reply = await port.complete(call(chat_body()))
    assert reply.upstream == "sim-eu"
    assert json.loads(reply.body)["provider"] == "tiergate-sim"


async def test_adapter_raises_http_errors_with_status_and_retry_after() -> None:
    upstream = adapter(FaultSpec(errors={429: 1.0}, retry_after_s=1.5))
    with pytest.raises(UpstreamHTTPError) as caught:
        await upstream.complete(call(chat_body()))
    assert (caught.value.status, caught.value.retry_after_s) == (429, 1.5)
    assert caught.value.upstream == "sim-eu"
    assert caught.value.retryable


async def test_adapter_maps_503_and_core_404() -> None:
    with pytest.raises(UpstreamHTTPError) as unavailable:
        await adapter(FaultSpec(errors={503: 1.0})).complete(call(chat_body()))
    assert unavailable.value.status == 503
    with pytest.raises(UpstreamHTTPError) as missing:
        await adapter().complete(call(chat_body(model="nope/unknown")))
    assert missing.value.status == 404


async def test_adapter_hang_times_out_after_the_call_timeout() -> None:
    started = time.perf_counter()
    with pytest.raises(UpstreamTimeout):
        await adapter(FaultSpec(hang_rate=1.0)).complete(call(chat_body(), timeout_s=0.05))
    assert 0.04 < time.perf_counter() - started < 1.0


async def test_adapter_times_out_when_simulated_latency_exceeds_the_timeout() -> None:
    slow = adapter(FaultSpec(extra_latency_s=10.0))
    started = time.perf_counter()
    with pytest.raises(UpstreamTimeout):
        await slow.complete(call(chat_body(), timeout_s=0.05))
    with pytest.raises(UpstreamTimeout):
        await slow.open_stream(call(chat_body(stream=True), timeout_s=0.05))
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("spec", [FaultSpec(reset_rate=1.0), FaultSpec(down=True)])
async def test_adapter_reset_and_down_are_connection_errors(spec: FaultSpec) -> None:
    upstream = adapter(spec)
    with pytest.raises(UpstreamConnectionError):
        await upstream.complete(call(chat_body()))
    with pytest.raises(UpstreamConnectionError):
        await upstream.open_stream(call(chat_body(stream=True)))


async def test_only_the_named_upstream_is_down() -> None:
    core = make_core(faults=FaultBook(upstreams={"eu": FaultSpec(down=True)}))
    with pytest.raises(UpstreamConnectionError):
        await SimulatedChatUpstream(core, name="eu").complete(call(chat_body()))
    reply = await SimulatedChatUpstream(core, name="us").complete(call(chat_body()))
    assert reply.upstream == "us"


async def test_adapter_empty_completion_has_no_content_and_no_tool_call() -> None:
    reply = await adapter(FaultSpec(empty_rate=1.0)).complete(call(chat_body()))
    message = json.loads(reply.body)["choices"][0]["message"]
    assert message["content"] == ""
    assert "tool_calls" not in message


async def test_adapter_reasoning_only_completion_has_only_reasoning_content() -> None:
    reply = await adapter(FaultSpec(reasoning_only_rate=1.0)).complete(call(chat_body()))
    message = json.loads(reply.body)["choices"][0]["message"]
    assert message["content"] is None
    assert message["reasoning_content"].strip()
    assert "tool_calls" not in message


async def test_adapter_mid_stream_cut_raises_after_some_chunks() -> None:
    stream = await adapter(FaultSpec(cut_rate=1.0)).open_stream(call(chat_body(stream=True)))
    received: list[bytes] = []

    async def drain() -> None:
        async for batch in stream.events():
            received.extend(batch)

    with pytest.raises(UpstreamConnectionError):
        await drain()
    assert len(received) >= 2
    assert json.loads(received[1])["choices"][0]["delta"]["content"]
    with pytest.raises(UpstreamConnectionError):
        await adapter(FaultSpec(cut_rate=1.0)).complete(call(chat_body()))


async def test_adapter_stream_yields_payloads_without_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_sleep(delay: float) -> None:
        raise AssertionError(f"zero latency must not sleep (slept {delay})")

    monkeypatch.setattr(asyncio, "sleep", no_sleep)
    body = chat_body(stream=True, stream_options={"include_usage": True})
    stream = await adapter(stream_chunks=5).open_stream(call(body))
    payloads = [json.loads(p) async for batch in stream.events() for p in batch]
    await stream.aclose()
    assert stream.upstream == "sim-eu"
    assert len(payloads) == 1 + 5 + 1 + 1
    assert payloads[-1]["usage"]["completion_tokens"] > 0


async def test_adapter_stream_paces_chunks_by_tokens_per_second() -> None:
    latency = LatencyModel(ttft_median_s=0.02, ttft_sigma=0.01, tokens_per_s=400, tail_rate=0)
    upstream = adapter(latency=latency, reply_tokens=(40, 40))
    started = time.perf_counter()
    stream = await upstream.open_stream(call(chat_body(stream=True)))
    first_chunk_at = time.perf_counter() - started
    async for _ in stream.events():
        pass
    total = time.perf_counter() - started
    assert 0.015 < first_chunk_at < 0.2
    assert 0.1 < total < 0.6  # 20 ms + 40 tokens at 400/s


async def test_adapter_embeds() -> None:
    body = json.dumps({"model": "text-embedding-3-small", "input": ["a", "b c"]}).encode()
    reply = await adapter().embed(call(body))
    data = json.loads(reply.body)["data"]
    assert [d["index"] for d in data] == [0, 1]


# --- latency ------------------------------------------------------------------------------


def test_latency_draws_have_the_configured_median_tail_and_rate() -> None:
    model = LatencyModel(tail_rate=0.02)
    rng = random.Random(1)
    draws = [model.draw(rng) for _ in range(4000)]
    ttfts = sorted(d.ttft_s for d in draws)
    assert 0.26 < ttfts[len(ttfts) // 2] < 0.34
    slow_tokens = [d for d in draws if d.per_token_s > 1.5 / 320]
    assert 0.01 < len(slow_tokens) / len(draws) < 0.03
    assert min(d.per_token_s for d in draws) == pytest.approx(1 / 320)


def test_zero_latency_draws_nothing_and_scale_shrinks_everything() -> None:
    rng = random.Random(1)
    state = rng.getstate()
    assert LatencyModel.zero().draw(rng) is INSTANT
    assert rng.getstate() == state
    tenth = LatencyModel(tail_rate=0).scaled(0.1).draw(random.Random(1))
    full = LatencyModel(tail_rate=0).draw(random.Random(1))
    assert tenth.ttft_s == pytest.approx(full.ttft_s / 10)
    assert tenth.per_token_s == pytest.approx(full.per_token_s / 10)


def test_fault_latency_overrides_apply_even_with_zero_latency() -> None:
    spec = FaultSpec(extra_latency_s=0.5, ttft_median_s=1.0, ttft_sigma=0.0)
    outcome = make_core(faults=FaultBook.everywhere(spec)).chat(chat_body(), upstream="sim")
    assert isinstance(outcome, Reply)
    assert outcome.delay_s == pytest.approx(1.5)


# --- embeddings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How do I reset my password?", "how can I reset my password"),
        ("How do I reset my password?", "Resetting my passwords, how?"),
        ("What is the capital of France?", "what's the capital of france"),
    ],
)
def test_paraphrases_embed_close(a: str, b: str) -> None:
    assert cosine(a, b) >= 0.92


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How do I reset my password?", "What is the capital of France?"),
        ("Write a poem about the sea", "Summarize this quarterly earnings report"),
        ("How do I reset my password?", "How do I change my email address?"),
    ],
)
def test_unrelated_prompts_embed_apart(a: str, b: str) -> None:
    assert cosine(a, b) < 0.5


@given(st.text(max_size=200))
def test_embeddings_are_unit_vectors(text: str) -> None:
    vector = embed_text(text)
    assert len(vector) == DIMENSIONS
    assert math.isclose(math.fsum(v * v for v in vector), 1.0, rel_tol=1e-9)


def test_embeddings_endpoint_returns_openai_shape_in_float_and_base64() -> None:
    core = make_core()
    request = {"model": "any-embedder", "input": "reset my password"}
    plain = core.embed(json.dumps(request).encode(), upstream="sim")
    as_base64 = json.dumps({**request, "encoding_format": "base64"}).encode()
    packed = core.embed(as_base64, upstream="sim")
    assert isinstance(plain, Reply)
    assert isinstance(packed, Reply)
    listing = json.loads(plain.body)
    assert listing["object"] == "list"
    assert listing["model"] == "any-embedder"
    assert listing["usage"] == {"prompt_tokens": 4, "total_tokens": 4}
    vector = listing["data"][0]["embedding"]
    raw = base64.b64decode(json.loads(packed.body)["data"][0]["embedding"])
    unpacked = struct.unpack(f"<{DIMENSIONS}f", raw)
    assert unpacked == pytest.approx(vector, abs=1e-6)

"""The running gateway driven by the official openai SDK over real sockets; upstream = simulator."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import openai
import pytest

from tests.support.gateway_server import RunningGateway
from tests.support.simulator_server import RunningSimulator

MESSAGES = [{"role": "user", "content": "Write two sentences about tide pools."}]


@pytest.fixture
def client(gateway: RunningGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.openai_base_url, api_key="caller-key", max_retries=0)


def _price(gateway: RunningGateway, model_id: str) -> tuple[Decimal, Decimal]:
    model = gateway.container.catalog().find(model_id)
    assert model is not None
    return model.price_in, model.price_out


def test_completion_cost_header_equals_usage_times_price(
    client: openai.OpenAI, gateway: RunningGateway
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="deepseek-v4-flash", messages=MESSAGES
    )  # type: ignore[arg-type]
    completion = raw.parse()
    assert completion.choices[0].message.content
    model_id = raw.headers["x-tiergate-model"]
    assert model_id == "deepseek-ai/DeepSeek-V4-Flash"
    price_in, price_out = _price(gateway, model_id)
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    expected = (usage.prompt_tokens * price_in + usage.completion_tokens * price_out) / 1_000_000
    assert Decimal(raw.headers["x-tiergate-cost-usd"]) == expected
    baseline_in, baseline_out = _price(gateway, "openai/gpt-4o")
    baseline = (
        usage.prompt_tokens * baseline_in + usage.completion_tokens * baseline_out
    ) / 1_000_000
    assert Decimal(raw.headers["x-tiergate-saving-usd"]) == baseline - expected
    assert len(raw.headers["x-tiergate-request-id"]) == 32


def test_auto_route_is_explained_in_headers(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="auto",
        messages=[{"role": "user", "content": "Translate 'good morning' into French."}],
    )
    assert raw.headers["x-tiergate-route"] == "translate"
    assert raw.headers["x-tiergate-reason"].startswith("auto/task")


def test_stream_with_usage_carries_the_cost_in_the_final_chunk(
    client: openai.OpenAI, gateway: RunningGateway
) -> None:
    stream = client.chat.completions.create(
        model="qwen3-32b",
        messages=MESSAGES,
        stream=True,  # type: ignore[arg-type]
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    final = chunks[-1]
    assert final.choices == [] and final.usage is not None
    price_in, price_out = _price(gateway, "Qwen/Qwen3-32B")
    expected = (
        final.usage.prompt_tokens * price_in + final.usage.completion_tokens * price_out
    ) / 1_000_000
    cost = (final.usage.model_extra or {})["cost"]
    assert Decimal(str(cost)) == pytest.approx(expected)


def test_stream_without_include_usage_sends_no_usage_chunk(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model="qwen3-32b", messages=MESSAGES, stream=True))  # type: ignore[arg-type]
    assert chunks and all(c.choices for c in chunks)


def test_unknown_request_fields_are_forwarded_untouched(
    client: openai.OpenAI, simulator: RunningSimulator
) -> None:
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    client.chat.completions.create(
        model="glm-4-plus",
        messages=MESSAGES,
        seed=7,
        user="u-1",
        tools=tools,  # type: ignore[arg-type]
        extra_body={"vendor_extra": {"nested": [1, 2.5, "x"]}, "logit_bias": {"42": -1}},
    )
    last = httpx.get(simulator.base_url + "/_sim/last-request").json()
    sent = json.loads(last["body"])
    assert sent["model"] == "THUDM/glm-4-plus"
    assert sent["vendor_extra"] == {"nested": [1, 2.5, "x"]}
    assert sent["logit_bias"] == {"42": -1}
    assert sent["seed"] == 7 and sent["user"] == "u-1" and sent["tools"] == tools
    assert last["authorization_present"] is True


def test_unknown_response_fields_are_returned_untouched(gateway: RunningGateway) -> None:
    response = httpx.post(
        gateway.openai_base_url + "/chat/completions",
        json={"model": "glm-4-plus", "messages": MESSAGES},
    )
    assert response.status_code == 200
    assert response.json()["provider"] == "tiergate-sim"
    assert response.json()["system_fingerprint"] == "fp_sim"


def test_unknown_model_is_a_404_the_sdk_understands(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="no-such-model", messages=MESSAGES)  # type: ignore[arg-type]
    assert caught.value.code == "model_not_found"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "auto", "messages": []}, "messages"),
        ({"model": "auto"}, "messages"),
        ({"model": "auto", "messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
        ({"model": "auto", "messages": MESSAGES, "temperature": "hot"}, "temperature"),
        ({"model": 5, "messages": MESSAGES}, "model"),
    ],
)
def test_bad_input_is_a_400_in_openai_shape(
    gateway: RunningGateway, body: object, param: str
) -> None:
    response = httpx.post(gateway.openai_base_url + "/chat/completions", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert "Traceback" not in response.text


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b""])
def test_malformed_json_is_a_400(gateway: RunningGateway, content: bytes) -> None:
    response = httpx.post(
        gateway.openai_base_url + "/chat/completions",
        content=content,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_oversized_body_is_a_413(gateway: RunningGateway) -> None:
    limit = gateway.container.settings().server.max_body_bytes
    big = {"model": "auto", "messages": [{"role": "user", "content": "x" * (limit + 10)}]}
    response = httpx.post(gateway.openai_base_url + "/chat/completions", json=big)
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_upstream_failure_maps_to_5xx_in_openai_shape(
    client: openai.OpenAI, simulator: RunningSimulator
) -> None:
    httpx.put(simulator.base_url + "/_sim/faults", json={"models": {"*": {"errors": {"500": 1.0}}}})
    try:
        with pytest.raises(openai.APIStatusError) as caught:
            client.chat.completions.create(model="glm-4-plus", messages=MESSAGES)  # type: ignore[arg-type]
    finally:
        httpx.delete(simulator.base_url + "/_sim/faults")
    assert caught.value.status_code in (502, 503)
    assert caught.value.response.headers.get("retry-after")


def test_models_lists_catalog_and_routes(client: openai.OpenAI) -> None:
    ids = {model.id for model in client.models.list()}
    assert {
        "deepseek-ai/DeepSeek-V4-Flash",
        "THUDM/glm-4-plus",
        "auto",
        "premium",
        "summarize",
    } <= ids


def test_health_and_readiness(gateway: RunningGateway) -> None:
    assert httpx.get(gateway.base_url + "/healthz").json()["status"] == "ok"
    assert httpx.get(gateway.base_url + "/readyz").status_code == 200

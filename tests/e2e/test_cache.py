"""Response caching through the running gateway: exact and semantic hits, scoping, controls."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import openai
import pytest

from tests.support.gateway_server import RunningGateway
from tests.support.scraped_metrics import metric_sum


def _ask(
    gateway: RunningGateway,
    content: str,
    *,
    key: str = "tenant-a",
    stream: bool = False,
    headers: dict[str, str] | None = None,
    temperature: float = 0.0,
) -> httpx.Response:
    return httpx.post(
        gateway.openai_base_url + "/chat/completions",
        headers={"authorization": f"Bearer {key}", **(headers or {})},
        json={
            "model": "auto",
            "temperature": temperature,
            "stream": stream,
            "messages": [{"role": "user", "content": content}],
        },
    )


def _fresh(prompt: str) -> str:
    return f"{prompt} (case {uuid.uuid4().hex[:8]})"


def test_a_repeat_is_an_exact_hit_that_costs_nothing(gateway: RunningGateway) -> None:
    prompt = _fresh("Name three uses of copper.")
    first, second = _ask(gateway, prompt), _ask(gateway, prompt)
    assert first.headers["x-tiergate-cache"] == "miss"
    assert second.headers["x-tiergate-cache"] == "hit"
    assert second.content == first.content
    assert float(second.headers["x-tiergate-cost-usd"]) == 0
    assert float(second.headers["x-tiergate-saving-usd"]) > 0
    assert second.headers["x-tiergate-attempts"] == "0"


def test_the_baseline_metric_counts_hits_as_their_headers_do(gateway: RunningGateway) -> None:
    """The saving query in docs/metrics.md divides by this counter: hits must be in it."""
    before = _baseline_metric(gateway)
    prompt = _fresh("Name three uses of nickel.")
    miss, hit = _ask(gateway, prompt), _ask(gateway, prompt)

    assert hit.headers["x-tiergate-cache"] == "hit"
    headers = sum(Decimal(r.headers["x-tiergate-baseline-cost-usd"]) for r in (miss, hit))
    assert _baseline_metric(gateway) - before == pytest.approx(float(headers))


def _baseline_metric(gateway: RunningGateway) -> float:
    return metric_sum(gateway.base_url, "tiergate_baseline_cost_usd_total")


def test_one_tenants_answer_is_never_served_to_another(gateway: RunningGateway) -> None:
    prompt = _fresh("Name three uses of zinc.")
    _ask(gateway, prompt, key="tenant-a")
    other = _ask(gateway, prompt, key="tenant-b")
    assert other.headers["x-tiergate-cache"] == "miss"
    assert _ask(gateway, prompt, key="tenant-b").headers["x-tiergate-cache"] == "hit"


def test_a_paraphrase_is_a_semantic_hit(gateway: RunningGateway) -> None:
    suffix = uuid.uuid4().hex[:8]
    _ask(gateway, f"How do I reset my password for account {suffix}?")
    paraphrase = _ask(gateway, f"how can I reset my password for account {suffix}")
    assert paraphrase.headers["x-tiergate-cache"] == "semantic-hit"
    unrelated = _ask(gateway, f"What is the boiling point of ethanol {suffix}?")
    assert unrelated.headers["x-tiergate-cache"] == "miss"


def test_a_streamed_replay_of_a_hit_passes_through_the_openai_sdk(
    gateway: RunningGateway,
) -> None:
    prompt = _fresh("List four prime numbers.")
    original = _ask(gateway, prompt).json()["choices"][0]["message"]["content"]
    client = openai.OpenAI(base_url=gateway.openai_base_url, api_key="tenant-a", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="auto",
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "user", "content": prompt}],
    )
    assert raw.headers["x-tiergate-cache"] == "hit"
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == original
    assert chunks[-1].usage is not None and (chunks[-1].usage.model_extra or {})["cost"] == 0


def test_a_completed_stream_is_stored_and_then_served(gateway: RunningGateway) -> None:
    prompt = _fresh("Describe a rainbow in one line.")
    streamed = _ask(gateway, prompt, stream=True)
    assert streamed.headers["x-tiergate-cache"] == "miss" and "data: [DONE]" in streamed.text
    assert _ask(gateway, prompt).headers["x-tiergate-cache"] == "hit"


def test_controls_no_store_no_cache_and_max_age(gateway: RunningGateway) -> None:
    prompt = _fresh("Name a noble gas.")
    assert (
        _ask(gateway, prompt, headers={"x-tiergate-cache": "no-store"}).headers["x-tiergate-cache"]
        == "bypass"
    )
    assert _ask(gateway, prompt).headers["x-tiergate-cache"] == "miss"  # nothing was stored
    refreshed = _ask(gateway, prompt, headers={"cache-control": "no-cache"})
    assert refreshed.headers["x-tiergate-cache"] == "bypass"
    assert (
        _ask(gateway, prompt, headers={"cache-control": "max-age=0"}).headers["x-tiergate-cache"]
        == "bypass"
    )
    assert (
        _ask(gateway, prompt, headers={"cache-control": "max-age=600"}).headers["x-tiergate-cache"]
        == "hit"
    )


def test_sampled_answers_are_not_cached_by_default(gateway: RunningGateway) -> None:
    prompt = _fresh("Invent a name for a cat.")
    _ask(gateway, prompt, temperature=1.0)
    assert _ask(gateway, prompt, temperature=1.0).headers["x-tiergate-cache"] == "bypass"


def test_a_bad_cache_header_is_a_400(gateway: RunningGateway) -> None:
    response = _ask(gateway, "hi", headers={"x-tiergate-cache": "sometimes"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "x-tiergate-cache"

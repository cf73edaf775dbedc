"""Tenants, budgets, limits, spend and feedback through the running gateway (official SDK)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import msgspec
import openai
import pytest

from adapters.simulator import LatencyModel, SimulatorCore
from app.container import Container
from domain.pricing import Usage, price
from infra.catalog_builder import build_catalog
from infra.settings import BudgetSettings, SpendLimitSettings, TenantSettings
from tests.support.gateway_server import (
    SIM_KEY_ENV,
    RunningGateway,
    running_gateway,
    settings_for_simulator,
)
from tests.support.scraped_metrics import metric_sum
from tests.support.simulator_server import running_simulator

KEYS = {
    "search": "sk-search",
    "tight": "sk-tight",
    "soft": "sk-soft",
    "rpm": "sk-rpm",
    "faq": "sk-faq",
}
MESSAGES = [{"role": "user", "content": "Write two sentences about tide pools."}]
CATALOG = build_catalog(settings_for_simulator("http://unused"))


def _tenant(name: str, **fields: object) -> TenantSettings:
    digest = hashlib.sha256(KEYS[name].encode()).hexdigest()
    return TenantSettings(name=name, key_sha256=[digest], **fields)  # type: ignore[arg-type]


def _daily(**limits: str) -> BudgetSettings:
    spend = SpendLimitSettings(**{k: Decimal(v) for k, v in limits.items()})
    return BudgetSettings(daily=spend)


@pytest.fixture(scope="module")
def governed() -> Iterator[RunningGateway]:
    mp = pytest.MonkeyPatch()
    mp.setenv(SIM_KEY_ENV, "sk-upstream")
    base = settings_for_simulator("http://unused")
    core = SimulatorCore(catalog=build_catalog(base), latency=LatencyModel.zero())
    try:
        with running_simulator(core) as sim:
            settings = settings_for_simulator(sim.base_url)
            tenants = [
                _tenant("search", admin=True),
                _tenant("tight", budget=_daily(hard_usd="0.000001")),
                _tenant("soft", budget=_daily(soft_usd="0.000001")),
                _tenant("rpm", requests_per_minute=3),
                _tenant("faq"),
            ]
            governance = msgspec.structs.replace(settings.governance, tenants=tenants)
            settings = msgspec.structs.replace(settings, governance=governance)
            with running_gateway(Container(settings=settings)) as gateway:
                yield gateway
    finally:
        mp.undo()


def _client(gateway: RunningGateway, tenant: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=gateway.openai_base_url, api_key=KEYS.get(tenant, tenant), max_retries=0
    )


def test_unknown_or_missing_keys_are_401(governed: RunningGateway) -> None:
    with pytest.raises(openai.AuthenticationError):
        _client(governed, "sk-nobody").chat.completions.create(model="auto", messages=MESSAGES)  # type: ignore[arg-type]
    response = httpx.post(
        governed.openai_base_url + "/chat/completions", json={"model": "auto", "messages": MESSAGES}
    )
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


def test_spend_totals_equal_the_sum_of_cost_headers(governed: RunningGateway) -> None:
    client = _client(governed, "search")
    spent = Decimal(0)
    for feature, model in [("digest", "auto"), ("digest", "premium"), ("triage", "economy")]:
        raw = client.chat.completions.with_raw_response.create(
            model=model,
            messages=MESSAGES,
            extra_headers={"x-tiergate-feature": feature},  # type: ignore[arg-type]
        )
        spent += Decimal(raw.headers["x-tiergate-cost-usd"])
    stream = client.chat.completions.create(
        model="standard",
        messages=MESSAGES,
        stream=True,  # type: ignore[arg-type]
        stream_options={"include_usage": True},
        extra_headers={"x-tiergate-feature": "triage"},
    )
    final = list(stream)[-1]
    assert final.usage is not None
    spent += Decimal(str((final.usage.model_extra or {})["cost"]))
    report = httpx.get(
        governed.openai_base_url + "/spend",
        params={"group_by": "feature"},
        headers={"authorization": f"Bearer {KEYS['search']}"},
    ).json()
    groups = {row["group"]: row for row in report["data"]}
    assert groups["digest"]["requests"] == 2 and groups["triage"]["requests"] == 2
    assert Decimal(report["total"]["cost_usd"]) == pytest.approx(spent, abs=Decimal("1e-9"))
    assert Decimal(report["total"]["baseline_cost_usd"]) > Decimal(report["total"]["cost_usd"])


def test_the_semantic_caches_embedding_is_part_of_the_requests_cost(
    governed: RunningGateway,
) -> None:
    """temperature 0 is cacheable: the exact miss embeds the question once (storing reuses the
    vector) and pays for it in its cost header and spend; the exact repeat embeds nothing."""
    client = _client(governed, "faq")
    faq = {"x-tiergate-feature": "faq-bot"}
    question = [{"role": "user", "content": "Which metals conduct heat best, and why?"}]
    ask = client.chat.completions.with_raw_response.create
    tokens_before, cost_before = _embedding_metrics(governed)
    first = ask(model="auto", messages=question, temperature=0, extra_headers=faq)  # type: ignore[arg-type]
    repeat = ask(model="auto", messages=question, temperature=0, extra_headers=faq)  # type: ignore[arg-type]
    tokens_after, cost_after = _embedding_metrics(governed)
    tokens, cost = tokens_after - tokens_before, cost_after - cost_before

    assert (first.headers["x-tiergate-cache"], repeat.headers["x-tiergate-cache"]) == (
        "miss",
        "hit",
    )
    assert tokens > 0  # the embedding, billed under the embedding model
    embedding_usd = Decimal(int(tokens)) * Decimal("0.01") / 1_000_000  # cache.embedding_price_in
    assert cost == pytest.approx(float(embedding_usd))
    usage = first.parse().usage
    assert usage is not None
    model = CATALOG.find(first.headers["x-tiergate-model"])
    assert model is not None
    chat_usd = price(model, Usage(usage.prompt_tokens, usage.completion_tokens))
    assert Decimal(first.headers["x-tiergate-cost-usd"]) == chat_usd + embedding_usd
    assert Decimal(repeat.headers["x-tiergate-cost-usd"]) == 0
    by_feature = _spend(governed, "faq", "feature")
    assert Decimal(by_feature["faq-bot"]["cost_usd"]) == chat_usd + embedding_usd
    assert by_feature["faq-bot"]["requests"] == 2


def test_an_answer_stored_without_a_lookup_pays_for_storings_embedding(
    governed: RunningGateway,
) -> None:
    """no-cache skips the lookup, so storing the answer embeds the question: same bill."""
    client = _client(governed, "faq")
    question = [{"role": "user", "content": "Name two alloys of copper."}]
    tokens_before, _ = _embedding_metrics(governed)
    fresh = client.chat.completions.with_raw_response.create(
        model="auto",
        messages=question,  # type: ignore[arg-type]
        temperature=0,
        extra_headers={"x-tiergate-cache": "no-cache"},
    )
    tokens_after, _ = _embedding_metrics(governed)

    embedding_usd = Decimal(int(tokens_after - tokens_before)) * Decimal("0.01") / 1_000_000
    assert embedding_usd > 0
    usage = fresh.parse().usage
    model = CATALOG.find(fresh.headers["x-tiergate-model"])
    assert usage is not None and model is not None
    chat_usd = price(model, Usage(usage.prompt_tokens, usage.completion_tokens))
    assert Decimal(fresh.headers["x-tiergate-cost-usd"]) == chat_usd + embedding_usd


def _embedding_metrics(gateway: RunningGateway) -> tuple[float, float]:
    """Input tokens and USD billed so far under the embedding model, over every route."""
    embedding = {"model": "BAAI/bge-m3"}
    tokens = metric_sum(gateway.base_url, "tiergate_tokens_total", direction="input", **embedding)
    return tokens, metric_sum(gateway.base_url, "tiergate_cost_usd_total", **embedding)


def _spend(gateway: RunningGateway, tenant: str, group_by: str) -> dict[str, dict[str, Any]]:
    report = httpx.get(
        gateway.openai_base_url + "/spend",
        params={"group_by": group_by},
        headers={"authorization": f"Bearer {KEYS[tenant]}"},
    ).json()
    return {row["group"]: row for row in report["data"]}


def test_a_hard_budget_answers_429_budget_exceeded(governed: RunningGateway) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        _client(governed, "tight").chat.completions.create(model="auto", messages=MESSAGES)  # type: ignore[arg-type]
    assert caught.value.code == "budget_exceeded"
    assert caught.value.response.headers["retry-after"]


def test_a_soft_budget_downgrades_to_economy(governed: RunningGateway) -> None:
    client = _client(governed, "soft")
    client.chat.completions.create(model="premium", messages=MESSAGES)  # type: ignore[arg-type]
    raw = client.chat.completions.with_raw_response.create(model="premium", messages=MESSAGES)  # type: ignore[arg-type]
    assert raw.headers["x-tiergate-degraded"] == "budget"
    assert raw.headers["x-tiergate-tier"] == "economy"


def test_max_cost_header_downgrades_or_rejects(governed: RunningGateway) -> None:
    response = httpx.post(
        governed.openai_base_url + "/chat/completions",
        headers={
            "authorization": f"Bearer {KEYS['search']}",
            "x-tiergate-max-cost-usd": "0.0000001",
        },
        json={"model": "premium", "messages": MESSAGES},
    )
    if response.status_code == 200:
        assert response.headers["x-tiergate-degraded"] == "max-cost"
    else:
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "max_cost_exceeded"


def test_rpm_limit_with_openai_style_headers(governed: RunningGateway) -> None:
    client = _client(governed, "rpm")
    first = client.chat.completions.with_raw_response.create(model="economy", messages=MESSAGES)  # type: ignore[arg-type]
    assert first.headers["x-ratelimit-limit-requests"] == "3"
    assert first.headers["x-ratelimit-remaining-requests"] == "2"
    client.chat.completions.create(model="economy", messages=MESSAGES)  # type: ignore[arg-type]
    client.chat.completions.create(model="economy", messages=MESSAGES)  # type: ignore[arg-type]
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="economy", messages=MESSAGES)  # type: ignore[arg-type]
    assert caught.value.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert caught.value.response.headers["retry-after"]


def test_feedback_feeds_quality_per_route_and_model(governed: RunningGateway) -> None:
    raw = _client(governed, "search").chat.completions.with_raw_response.create(
        model="economy",
        messages=MESSAGES,  # type: ignore[arg-type]
    )
    auth = {"authorization": f"Bearer {KEYS['search']}"}
    request_id, model = raw.headers["x-tiergate-request-id"], raw.headers["x-tiergate-model"]
    sent = httpx.post(
        governed.openai_base_url + "/feedback",
        headers=auth,
        json={"request_id": request_id, "thumbs": "down"},
    )
    assert sent.status_code == 200, sent.text
    quality = httpx.get(governed.openai_base_url + "/feedback/quality", headers=auth).json()
    rows = json.dumps(quality)
    assert model in rows and "economy" in rows
    again = httpx.post(
        governed.openai_base_url + "/feedback",
        headers=auth,
        json={"request_id": request_id, "score": 1.0},
    )
    assert again.status_code == 400

"""AttemptLog: what a request cost, its attempts and the semantic cache's embedding together."""

from __future__ import annotations

from decimal import Decimal

from app.services.answer_cache import EmbeddingSpend
from app.services.attempts import AttemptLog
from domain.catalog import Model
from domain.pricing import Cost, Usage, embedding_cost
from tests.unit.routing_fixtures import bundled


def _bundled_model(model_id: str) -> Model:
    model = bundled()[0].find(model_id)
    assert model is not None
    return model


FLASH = _bundled_model("deepseek-ai/DeepSeek-V4-Flash")  # $0.27 / $1.10 per million tokens
GPT4O = _bundled_model("openai/gpt-4o")  # $2.50 / $10.00
USAGE = Usage(input_tokens=1_000, output_tokens=500)  # $0.00082 on Flash, $0.0075 on GPT-4o
EMBEDDING = EmbeddingSpend(
    model="BAAI/bge-m3",
    usage=Usage(input_tokens=40),
    cost=embedding_cost(40, Decimal("0.01")),  # $0.0000004
)


def test_an_embedding_is_paid_for_but_is_not_an_attempt() -> None:
    log = AttemptLog(baseline=GPT4O)
    log.add_embedding(EMBEDDING)
    log.add_embedding(None)  # a lookup that did not embed
    log.add(FLASH, "up", "ok", USAGE)

    assert log.count == 1
    assert log.total_usage == USAGE  # the chat call's tokens
    assert log.total_cost == Cost(usd=Decimal("0.0008204"), baseline_usd=Decimal("0.0075"))


def test_a_streams_running_cost_includes_the_embedding() -> None:
    log = AttemptLog(baseline=GPT4O)
    log.add_embedding(EMBEDDING)

    assert log.cost_with(FLASH, USAGE) == Cost(
        usd=Decimal("0.0008204"), baseline_usd=Decimal("0.0075")
    )


def test_an_embedding_alone_costs_its_price_against_no_baseline() -> None:
    log = AttemptLog(baseline=GPT4O)
    log.add_embedding(EMBEDDING)

    assert log.total_cost == Cost(usd=Decimal("0.0000004"))
    assert embedding_cost(40, Decimal("0.01")).usd == Decimal("0.0000004")


def test_a_cache_hit_is_priced_on_the_baseline_by_the_stored_answers_usage() -> None:
    log = AttemptLog(baseline=GPT4O)
    log.add_embedding(EMBEDDING)  # a semantic hit
    log.answered_from_cache(USAGE)

    assert log.count == 0
    assert log.total_cost == Cost(usd=Decimal("0.0000004"), baseline_usd=Decimal("0.0075"))


def test_the_total_follows_every_attempt_embedding_and_cached_answer_added_after_a_read() -> None:
    log = AttemptLog(baseline=GPT4O)
    assert log.total_cost == Cost()

    log.add(FLASH, "up", "error", USAGE)  # billed, not the answer: no baseline yet
    assert log.total_cost == Cost(usd=Decimal("0.00082"))
    log.add_embedding(EMBEDDING)
    assert log.total_cost == Cost(usd=Decimal("0.0008204"))
    log.add(FLASH, "up", "ok", USAGE)
    assert log.total_cost == Cost(usd=Decimal("0.0016404"), baseline_usd=Decimal("0.0075"))


def test_a_cached_answer_read_after_a_first_total_sets_the_baseline() -> None:
    log = AttemptLog(baseline=GPT4O)
    assert log.total_cost == Cost()

    log.answered_from_cache(USAGE)
    assert log.total_cost == Cost(baseline_usd=Decimal("0.0075"))

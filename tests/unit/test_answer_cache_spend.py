"""AnswerCache prices the embeddings it asks for, once per request: the lookup's, or storing's
when the lookup had none."""

from __future__ import annotations

import json
from decimal import Decimal

from adapters.aiocache_response_cache import AiocacheResponseCache
from adapters.memory_semantic_index import MemorySemanticIndex
from app.services.answer_cache import AnswerCache, CacheLookup, EmbeddingSpend
from domain.cache_directives import NO_DIRECTIVES
from domain.cache_policy import CacheDecision, CacheKeyPolicy, CacheRequest
from domain.ports import CachedAnswer, Embedding
from domain.pricing import Cost, Usage
from tests.fakes import completion_body

PRICE_IN = Decimal("0.02")  # USD per million tokens
SPEND = EmbeddingSpend(
    model="embedder-1",
    usage=Usage(input_tokens=12),
    cost=Cost(usd=Decimal("0.00000024")),  # 12 tokens at $0.02 per million
)


class CountingEmbedder:
    def __init__(self) -> None:
        self.calls = 0

    async def embed(self, text: str) -> Embedding | None:
        self.calls += 1
        return Embedding(vector=(1.0, 0.0), model="embedder-1", input_tokens=12)


def _decision(question: str) -> CacheDecision:
    fields = {
        "messages": json.dumps([{"role": "user", "content": question}]).encode(),
        "temperature": b"0",
    }
    request = CacheRequest.of(tenant="acme", route="economy", fields=fields)
    return CacheKeyPolicy(semantic=True).decide(request, tier="economy", directives=NO_DIRECTIVES)


def _answer() -> CachedAnswer:
    body = completion_body("m", "Copper and silver.")
    return CachedAnswer(body=body, model="m", route="economy", tier="economy", stored_at=0.0)


def _cache(embedder: CountingEmbedder) -> AnswerCache:
    return AnswerCache(
        responses=AiocacheResponseCache.in_memory(),
        semantic=MemorySemanticIndex(),
        embedder=embedder,
        embedding_price_in=PRICE_IN,
        clock=lambda: 0.0,
    )


async def test_a_semantic_lookup_pays_for_one_embedding_and_storing_reuses_it() -> None:
    embedder = CountingEmbedder()
    cache, decision = _cache(embedder), _decision("Which metals conduct heat best?")

    lookup = await cache.lookup(decision)
    stored = await cache.store(decision, lookup, _answer())

    assert (lookup.hit, lookup.spend, stored, embedder.calls) == (None, SPEND, None, 1)


async def test_storing_without_the_lookups_vector_pays_for_its_own_embedding() -> None:
    embedder = CountingEmbedder()
    cache, decision = _cache(embedder), _decision("Which metals conduct heat best?")

    assert await cache.store(decision, CacheLookup(), _answer()) == SPEND
    assert embedder.calls == 1


async def test_an_exact_hit_pays_for_no_embedding() -> None:
    embedder = CountingEmbedder()
    cache, decision = _cache(embedder), _decision("Which metals conduct heat best?")
    await cache.store(decision, CacheLookup(), _answer())

    lookup = await cache.lookup(decision)

    assert lookup.hit is not None and lookup.hit.kind == "hit"
    assert lookup.spend is None and embedder.calls == 1

"""AnswerCache: exact then semantic lookup of a previous answer, and storing new ones."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

import msgspec

from domain.cache_policy import CacheDecision
from domain.ports import CachedAnswer, Embedder, Embedding, ResponseCache, SemanticIndex
from domain.pricing import Cost, Usage, embedding_cost


class CacheHit(msgspec.Struct, frozen=True):
    answer: CachedAnswer
    kind: str  # "hit" | "semantic-hit"


class EmbeddingSpend(msgspec.Struct, frozen=True):
    """An embedding the cache asked the upstream for, on behalf of one request."""

    model: str
    usage: Usage
    cost: Cost


class CacheLookup(msgspec.Struct):
    """What one request learned from the cache; the embedding is reused when storing."""

    hit: CacheHit | None = None
    vector: tuple[float, ...] | None = None
    spend: EmbeddingSpend | None = None  # the embedding this lookup paid for


class AnswerCache:
    def __init__(
        self,
        *,
        responses: ResponseCache,
        semantic: SemanticIndex | None = None,
        embedder: Embedder | None = None,
        embedding_price_in: Decimal = Decimal(0),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._responses = responses
        self._semantic = semantic
        self._embedder = embedder
        self._embedding_price_in = embedding_price_in
        self._clock = clock

    async def lookup(self, decision: CacheDecision) -> CacheLookup:
        if not decision.lookup or decision.key is None:
            return CacheLookup()
        answer = await self._responses.get(decision.key)
        if answer is not None and decision.accepts(stored_at=answer.stored_at, now=self._clock()):
            return CacheLookup(hit=CacheHit(answer, "hit"))
        return await self._semantic_lookup(decision)

    async def store(
        self, decision: CacheDecision, lookup: CacheLookup, answer: CachedAnswer
    ) -> EmbeddingSpend | None:
        """Store `answer`; returns the embedding storing had to pay for (none if the lookup's
        was reused)."""
        if not decision.store or decision.key is None:
            return None
        await self._responses.set(decision.key, answer, decision.ttl_s)
        vector, spend = lookup.vector, None
        if decision.semantic is not None and vector is None:
            embedding = await self._embed(decision)
            if embedding is not None:
                vector, spend = embedding.vector, self._spend(embedding)
        if decision.semantic is not None and vector is not None and self._semantic is not None:
            await self._semantic.add(
                decision.semantic.scope.id,
                vector,
                decision.key,
                ttl_s=decision.ttl_s,
                now=self._clock(),
            )
        return spend

    def now(self) -> float:
        return self._clock()

    async def _semantic_lookup(self, decision: CacheDecision) -> CacheLookup:
        if decision.semantic is None or self._semantic is None:
            return CacheLookup()
        embedding = await self._embed(decision)
        if embedding is None:
            return CacheLookup()
        vector, spend = embedding.vector, self._spend(embedding)
        match = await self._semantic.nearest(
            decision.semantic.scope.id,
            vector,
            threshold=decision.semantic.threshold,
            now=self._clock(),
        )
        if match is None:
            return CacheLookup(vector=vector, spend=spend)
        answer = await self._responses.get(match.key)
        if answer is None or not decision.accepts(stored_at=answer.stored_at, now=self._clock()):
            return CacheLookup(vector=vector, spend=spend)
        return CacheLookup(hit=CacheHit(answer, "semantic-hit"), vector=vector, spend=spend)

    async def _embed(self, decision: CacheDecision) -> Embedding | None:
        if decision.semantic is None or self._embedder is None:
            return None
        return await self._embedder.embed(decision.semantic.text)

    def _spend(self, embedding: Embedding) -> EmbeddingSpend:
        usage = Usage(input_tokens=embedding.input_tokens)
        cost = embedding_cost(embedding.input_tokens, self._embedding_price_in)
        return EmbeddingSpend(model=embedding.model, usage=usage, cost=cost)

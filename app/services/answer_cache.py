"""AnswerCache: exact then semantic lookup of a previous answer, and storing new ones."""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec

from domain.cache_policy import CacheDecision
from domain.ports import CachedAnswer, Embedder, ResponseCache, SemanticIndex


class CacheHit(msgspec.Struct, frozen=True):
    answer: CachedAnswer
    kind: str  # "hit" | "semantic-hit"


class CacheLookup(msgspec.Struct):
    """What one request learned from the cache; the embedding is reused when storing."""

    hit: CacheHit | None = None
    vector: tuple[float, ...] | None = None


class AnswerCache:
    def __init__(
        self,
        *,
        responses: ResponseCache,
        semantic: SemanticIndex | None = None,
        embedder: Embedder | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._responses = responses
        self._semantic = semantic
        self._embedder = embedder
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
    ) -> None:
        if not decision.store or decision.key is None:
            return
        await self._responses.set(decision.key, answer, decision.ttl_s)
        vector = lookup.vector
        if decision.semantic is not None and vector is None:
            vector = await self._embed(decision)
        if decision.semantic is not None and vector is not None and self._semantic is not None:
            await self._semantic.add(
                decision.semantic.scope.id,
                vector,
                decision.key,
                ttl_s=decision.ttl_s,
                now=self._clock(),
            )

    def now(self) -> float:
        return self._clock()

    async def _semantic_lookup(self, decision: CacheDecision) -> CacheLookup:
        if decision.semantic is None or self._semantic is None:
            return CacheLookup()
        vector = await self._embed(decision)
        if vector is None:
            return CacheLookup()
        match = await self._semantic.nearest(
            decision.semantic.scope.id,
            vector,
            threshold=decision.semantic.threshold,
            now=self._clock(),
        )
        if match is None:
            return CacheLookup(vector=vector)
        answer = await self._responses.get(match.key)
        if answer is None or not decision.accepts(stored_at=answer.stored_at, now=self._clock()):
            return CacheLookup(vector=vector)
        return CacheLookup(hit=CacheHit(answer, "semantic-hit"), vector=vector)

    async def _embed(self, decision: CacheDecision) -> tuple[float, ...] | None:
        if decision.semantic is None or self._embedder is None:
            return None
        embedding = await self._embedder.embed(decision.semantic.text)
        return None if embedding is None else tuple(embedding.vector)

"""Building the response cache, semantic index and embedder from settings (composition root)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from adapters.aiocache_response_cache import AiocacheResponseCache
from adapters.cache_guard import ErrorHook
from adapters.memory_semantic_index import MemorySemanticIndex
from adapters.redis_semantic_index import RedisSemanticIndex
from adapters.upstream_embedder import UpstreamEmbedder
from domain.ports import ChatUpstream, SemanticIndex
from infra.config_loader import ConfigError
from infra.settings import CacheSettings


async def open_response_cache(
    cache: CacheSettings, on_error: ErrorHook
) -> AsyncIterator[AiocacheResponseCache]:
    if cache.backend == "redis":
        responses = AiocacheResponseCache.redis(
            url=_redis_url(cache), timeout_s=cache.timeout_s, on_error=on_error
        )
    else:
        responses = AiocacheResponseCache.in_memory(
            max_entries=cache.max_entries, on_error=on_error
        )
    try:
        yield responses
    finally:
        await responses.aclose()


async def open_semantic_index(
    cache: CacheSettings, on_error: ErrorHook
) -> AsyncIterator[SemanticIndex]:
    if cache.backend != "redis":
        yield MemorySemanticIndex(max_entries=cache.semantic_max_entries)
        return
    index = RedisSemanticIndex.from_url(_redis_url(cache), on_error=on_error)
    try:
        yield index
    finally:
        await index.aclose()


def build_embedder(
    cache: CacheSettings, upstream: ChatUpstream, on_error: ErrorHook
) -> UpstreamEmbedder:
    return UpstreamEmbedder(
        upstream=upstream,
        model=cache.embedding_model,
        timeout_s=cache.embedding_timeout_s,
        on_error=on_error,
    )


def _redis_url(cache: CacheSettings) -> str:
    if not cache.redis_url:
        raise ConfigError(
            "cache.backend is redis but no cache.redis_url / TIERGATE_REDIS_URL is set"
        )
    return cache.redis_url

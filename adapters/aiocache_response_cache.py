"""`ResponseCache` on aiocache: bounded in-process memory, or Redis shared by every pod."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import unquote, urlsplit

import msgspec
from aiocache import RedisCache, SimpleMemoryCache
from aiocache.serializers import BaseSerializer, NullSerializer

from adapters.cache_guard import FAILED, CacheStats, ErrorHook, FailOpenGuard
from domain.ports import CachedAnswer

DEFAULT_PREFIX = "tiergate:rc:v1:"


class _Entry(msgspec.Struct, array_like=True, frozen=True):
    """The stored form of a `CachedAnswer` (msgpack array; append new fields with defaults)."""

    body: bytes
    model: str
    route: str
    tier: str
    stored_at: float
    input_tokens: int
    output_tokens: int


class MsgspecSerializer(BaseSerializer):  # type: ignore[misc]
    """`CachedAnswer` <-> msgpack bytes. Binary, so aiocache must not decode what Redis returns."""

    DEFAULT_ENCODING = None
    _encoder = msgspec.msgpack.Encoder()
    _decoder = msgspec.msgpack.Decoder(_Entry)

    def dumps(self, value: CachedAnswer) -> bytes:
        entry = _Entry(
            body=value.body,
            model=value.model,
            route=value.route,
            tier=value.tier,
            stored_at=value.stored_at,
            input_tokens=value.input_tokens,
            output_tokens=value.output_tokens,
        )
        return self._encoder.encode(entry)

    def loads(self, value: bytes | None) -> CachedAnswer | None:
        if value is None:
            return None
        entry = self._decoder.decode(value)
        return CachedAnswer(
            body=entry.body,
            model=entry.model,
            route=entry.route,
            tier=entry.tier,
            stored_at=entry.stored_at,
            input_tokens=entry.input_tokens,
            output_tokens=entry.output_tokens,
        )


class BoundedMemoryCache(SimpleMemoryCache):  # type: ignore[misc]
    """aiocache's memory backend is unbounded; this one evicts the least recently used entry
    once `max_entries` are held. TTL expiry still comes from aiocache's timers."""

    def __init__(self, *, max_entries: int, **kwargs: Any) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        super().__init__(**kwargs)
        self.max_entries = max_entries
        self.evictions = 0

    async def _get(self, key: str, encoding: str | None = "utf-8", _conn: Any = None) -> Any:
        value = self._cache.pop(key, None)
        if value is not None:
            self._cache[key] = value  # dicts keep insertion order: the end is most recent
        return value

    async def _set(
        self,
        key: str,
        value: Any,
        ttl: float | None = None,
        _cas_token: Any = None,
        _conn: Any = None,
    ) -> Any:
        if key in self._cache:
            self._cache[key] = self._cache.pop(key)
        else:
            while len(self._cache) >= self.max_entries:
                await self._delete(next(iter(self._cache)))
                self.evictions += 1
        return await super()._set(key, value, ttl=ttl, _cas_token=_cas_token, _conn=_conn)

    def __len__(self) -> int:
        return len(self._cache)


class AiocacheResponseCache:
    """A fail-open `ResponseCache`: every backend call is bounded by `timeout_s` (None: not
    bounded, for in-process backends), and errors count as misses (see `stats` and
    `on_error`). Answers over `max_body_bytes` aren't stored."""

    def __init__(
        self,
        *,
        backend: Any,
        timeout_s: float | None = 0.05,
        max_body_bytes: int = 1024 * 1024,
        prefix: str = DEFAULT_PREFIX,
        on_error: ErrorHook | None = None,
    ) -> None:
        self.backend = backend
        self.stats = CacheStats()
        self.max_body_bytes = max_body_bytes
        self._prefix = prefix
        name = f"response cache ({type(backend).__name__})"
        self._guard = FailOpenGuard(
            name=name, timeout_s=timeout_s, stats=self.stats, on_error=on_error
        )

    @classmethod
    def in_memory(
        cls,
        *,
        max_entries: int = 10_000,
        max_body_bytes: int = 1024 * 1024,
        on_error: ErrorHook | None = None,
    ) -> AiocacheResponseCache:
        # Answers are frozen values: the process can keep them as they are, where Redis needs
        # bytes (decoding them again was a tenth of a cache hit's work).
        backend = BoundedMemoryCache(
            max_entries=max_entries, serializer=NullSerializer(), timeout=None
        )
        return cls(
            backend=backend, timeout_s=None, max_body_bytes=max_body_bytes, on_error=on_error
        )

    @classmethod
    def redis(
        cls,
        *,
        url: str,
        timeout_s: float = 0.05,
        max_body_bytes: int = 1024 * 1024,
        prefix: str = DEFAULT_PREFIX,
        pool_max_size: int | None = None,
        on_error: ErrorHook | None = None,
    ) -> AiocacheResponseCache:
        """Redis at `url` (`redis://[:password@]host[:port][/db]`, or `rediss://` for TLS)."""
        backend = RedisCache(
            serializer=MsgspecSerializer(),
            timeout=None,  # the guard bounds each call, and also counts the failure
            pool_max_size=pool_max_size,
            create_connection_timeout=max(timeout_s, 1.0),
            **_redis_location(url),
        )
        return cls(
            backend=backend,
            timeout_s=timeout_s,
            max_body_bytes=max_body_bytes,
            prefix=prefix,
            on_error=on_error,
        )

    async def get(self, key: str) -> CachedAnswer | None:
        answer = await self._guard.run("get", lambda: self.backend.get(self._prefix + key))
        if answer is FAILED or answer is None:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        return answer  # type: ignore[no-any-return]

    async def set(self, key: str, answer: CachedAnswer, ttl_s: float) -> None:
        if ttl_s <= 0:
            return
        if len(answer.body) > self.max_body_bytes:
            self.stats.skipped += 1
            return
        done = await self._guard.run(
            "set", lambda: self.backend.set(self._prefix + key, answer, ttl=float(ttl_s))
        )
        if done is not FAILED:
            self.stats.stores += 1

    async def aclose(self) -> None:
        """Close the backend's connections; the cache must not be used afterwards."""
        with contextlib.suppress(Exception):  # shutting down: a dead Redis is not news
            if isinstance(self.backend, RedisCache):
                await self.backend.client.aclose()  # aiocache's close() calls a deprecated API
            else:
                await self.backend.close()


def _redis_location(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"not a redis:// URL: {url!r}")
    db = parts.path.strip("/")
    return {
        "endpoint": parts.hostname or "127.0.0.1",
        "port": parts.port or 6379,
        "db": int(db) if db else 0,
        "password": unquote(parts.password) if parts.password else None,
        "ssl": parts.scheme == "rediss",
    }

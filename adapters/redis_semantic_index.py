"""`SemanticIndex` on Redis: every pod sees every prompt vector; brute force over a bounded scope.

Per scope, a hash holds `key -> expires_at (float64) + unit vector (float32)`, little-endian,
and a sorted set orders the keys by expiry. `add` is one Lua script: store, drop expired
entries, trim to `max_entries_per_scope` (soonest-expiring first), extend both keys' TTL to the
longest entry. `nearest` is one HGETALL plus a dot product per entry in this process. Both
keys carry the scope in a `{hash tag}`, so the script also runs on Redis Cluster.
"""

from __future__ import annotations

import contextlib
import math
import struct
import sys
from array import array

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from adapters.cache_guard import FAILED, CacheStats, ErrorHook, FailOpenGuard
from domain.ports import SemanticMatch
from domain.similarity import dot, unit

DEFAULT_PREFIX = "tiergate:sem:v1:"
_EXPIRY = struct.Struct("<d")
_SWAP = sys.byteorder == "big"  # stored vectors are little-endian float32

_ADD_SCRIPT = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
for _, field in ipairs(gone) do redis.call('HDEL', KEYS[1], field) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if over > 0 then
  local oldest = redis.call('ZPOPMIN', KEYS[2], over)
  for i = 1, #oldest, 2 do redis.call('HDEL', KEYS[1], oldest[i]) end
end
local ttl = tonumber(ARGV[6])
if redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return redis.call('ZCARD', KEYS[2])
"""


class RedisSemanticIndex:
    """A fail-open `SemanticIndex` shared by every pod using the same Redis and prefix."""

    def __init__(
        self,
        *,
        client: aioredis.Redis,
        owns_client: bool = False,
        max_entries_per_scope: int = 256,
        timeout_s: float = 0.1,
        prefix: str = DEFAULT_PREFIX,
        on_error: ErrorHook | None = None,
    ) -> None:
        if max_entries_per_scope < 1:
            raise ValueError("max_entries_per_scope must be at least 1")
        if client.connection_pool.connection_kwargs.get("decode_responses"):
            raise ValueError("vectors are binary: the client needs decode_responses=False")
        self.client = client
        self.max_entries_per_scope = max_entries_per_scope
        self.stats = CacheStats()
        self._owns_client = owns_client
        self._prefix = prefix
        self._add = client.register_script(_ADD_SCRIPT)
        self._guard = FailOpenGuard(
            name="semantic index (redis)", timeout_s=timeout_s, stats=self.stats, on_error=on_error
        )

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        max_entries_per_scope: int = 256,
        timeout_s: float = 0.1,
        prefix: str = DEFAULT_PREFIX,
        on_error: ErrorHook | None = None,
    ) -> RedisSemanticIndex:
        """An index with its own connection pool to `url`, closed by `aclose`."""
        client = aioredis.Redis.from_url(
            url, socket_connect_timeout=1.0, retry=Retry(NoBackoff(), 0)
        )
        return cls(
            client=client,
            owns_client=True,
            max_entries_per_scope=max_entries_per_scope,
            timeout_s=timeout_s,
            prefix=prefix,
            on_error=on_error,
        )

    async def add(
        self, scope: str, vector: tuple[float, ...], key: str, *, ttl_s: float, now: float
    ) -> None:
        normalised = unit(vector)
        if normalised is None or ttl_s <= 0:
            return
        expires_at = now + ttl_s
        blob = _EXPIRY.pack(expires_at) + _float32(normalised)
        keys = self._keys(scope)
        limit, ttl_ms = self.max_entries_per_scope, math.ceil(ttl_s * 1000)
        args: list[bytes | str | int] = [key, blob, repr(expires_at), repr(now), limit, ttl_ms]
        done = await self._guard.run("add", lambda: self._add(keys=keys, args=args))
        if done is not FAILED:
            self.stats.stores += 1

    async def nearest(
        self, scope: str, vector: tuple[float, ...], *, threshold: float, now: float
    ) -> SemanticMatch | None:
        query = unit(vector)
        if query is None:
            return None
        vectors_key = self._keys(scope)[0]
        entries = await self._guard.run("nearest", lambda: self._read(vectors_key))
        best = None if entries is FAILED else _best(entries, query, threshold, now)
        if best is None:
            self.stats.misses += 1
        else:
            self.stats.hits += 1
        return best

    async def aclose(self) -> None:
        """Close the connection pool if this index created it."""
        if self._owns_client:
            with contextlib.suppress(Exception):
                await self.client.aclose()

    def _keys(self, scope: str) -> list[str]:
        base = f"{self._prefix}{{{scope}}}"
        return [base + ":vectors", base + ":expiry"]

    async def _read(self, vectors_key: str) -> dict[bytes | str, bytes | str]:
        return await self.client.hgetall(vectors_key)


def _float32(vector: tuple[float, ...]) -> bytes:
    packed = array("f", vector)
    if _SWAP:
        packed.byteswap()
    return packed.tobytes()


def _best(
    entries: dict[bytes | str, bytes | str], query: tuple[float, ...], threshold: float, now: float
) -> SemanticMatch | None:
    best: SemanticMatch | None = None
    width = 4 * len(query)
    for key, blob in entries.items():
        if (
            isinstance(blob, str)
            or len(blob) != _EXPIRY.size + width
            or _EXPIRY.unpack_from(blob)[0] <= now
        ):
            continue  # expired, or stored by another embedding model
        stored = array("f")
        stored.frombytes(blob[_EXPIRY.size :])
        if _SWAP:
            stored.byteswap()
        similarity = dot(query, stored)
        if similarity >= threshold and (best is None or similarity > best.similarity):
            text = key.decode() if isinstance(key, bytes) else key
            best = SemanticMatch(key=text, similarity=similarity)
    return best

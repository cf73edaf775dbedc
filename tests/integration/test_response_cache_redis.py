"""The response cache against a real redis-server (and its bounded in-memory twin)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator

import pytest
import redis.asyncio as aioredis

from adapters.aiocache_response_cache import DEFAULT_PREFIX, AiocacheResponseCache
from domain.cache_directives import NO_DIRECTIVES
from domain.cache_policy import CacheKeyPolicy, CacheRequest
from domain.ports import CachedAnswer
from tests.fakes import completion_body
from tests.support.redis_server import RedisServer, running_redis

pytestmark = pytest.mark.redis
TIMEOUT_S = 0.05
SLACK_S = 0.5  # generous for slow CI; the point is "bounded", not "exactly 50 ms"


def answer(content: str = "ok", *, stored_at: float = 1_700_000_000.5) -> CachedAnswer:
    return CachedAnswer(
        body=completion_body("glm-4-flash", content=content) + "é✓".encode(),
        model="glm-4-flash",
        route="economy",
        tier="economy",
        stored_at=stored_at,
        input_tokens=12,
        output_tokens=3,
    )


def unique_key() -> str:
    return uuid.uuid4().hex


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A server of the test's own, free to be killed or frozen."""
    with running_redis() as server:
        yield server


@pytest.fixture
async def cache(redis_server: RedisServer) -> AsyncIterator[AiocacheResponseCache]:
    cache = AiocacheResponseCache.redis(url=redis_server.url, timeout_s=TIMEOUT_S)
    yield cache
    await cache.aclose()


async def test_roundtrip_keeps_the_exact_bytes_and_fields(cache: AiocacheResponseCache) -> None:
    key, stored = unique_key(), answer()
    assert await cache.get(key) is None
    await cache.set(key, stored, ttl_s=60)
    assert await cache.get(key) == stored
    assert (cache.stats.hits, cache.stats.misses, cache.stats.stores) == (1, 1, 1)
    assert cache.stats.errors == 0


async def test_entries_are_shared_by_pods_using_the_same_redis(
    cache: AiocacheResponseCache, redis_server: RedisServer
) -> None:
    other_pod = AiocacheResponseCache.redis(url=redis_server.url, timeout_s=TIMEOUT_S)
    try:
        key = unique_key()
        await cache.set(key, answer("shared"), ttl_s=60)
        assert await other_pod.get(key) == answer("shared")
    finally:
        await other_pod.aclose()


async def test_entries_expire_after_their_ttl(
    cache: AiocacheResponseCache, redis_server: RedisServer
) -> None:
    key = unique_key()
    await cache.set(key, answer(), ttl_s=0.2)
    assert await cache.get(key) is not None
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        assert 0 < await client.pttl(DEFAULT_PREFIX + key) <= 200
    finally:
        await client.aclose()
    await asyncio.sleep(0.3)
    assert await cache.get(key) is None


async def test_one_tenant_never_reads_another_tenants_entry(cache: AiocacheResponseCache) -> None:
    body = {"messages": [{"role": "user", "content": "Summarise our Q3 numbers"}]}
    fields = {
        name: json.dumps(value).encode() for name, value in {**body, "temperature": 0}.items()
    }
    policy = CacheKeyPolicy()

    def key_for(tenant: str) -> str:
        request = CacheRequest.of(tenant=tenant, route="economy", fields=fields)
        key = policy.decide(request, tier="economy", directives=NO_DIRECTIVES).key
        assert key is not None
        return key

    await cache.set(key_for("acme"), answer("acme's numbers"), ttl_s=60)
    assert await cache.get(key_for("globex")) is None
    assert await cache.get(key_for("acme")) == answer("acme's numbers")


async def test_a_corrupt_entry_reads_as_a_miss_and_is_counted(
    cache: AiocacheResponseCache, redis_server: RedisServer
) -> None:
    key = unique_key()
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        await client.set(DEFAULT_PREFIX + key, b"\xc1 not msgpack")
    finally:
        await client.aclose()
    assert await cache.get(key) is None
    assert cache.stats.errors == 1


async def test_oversized_answers_are_not_stored(redis_server: RedisServer) -> None:
    cache = AiocacheResponseCache.redis(url=redis_server.url, max_body_bytes=100)
    try:
        key = unique_key()
        await cache.set(key, answer("x" * 200), ttl_s=60)
        assert await cache.get(key) is None
        assert cache.stats.skipped == 1
    finally:
        await cache.aclose()


async def _timed(call: Awaitable[object]) -> float:
    started = time.perf_counter()
    await call
    return time.perf_counter() - started


async def test_redis_killed_mid_traffic_fails_open_and_caching_resumes_on_restart(
    own_redis: RedisServer,
) -> None:
    errors: list[str] = []
    cache = AiocacheResponseCache.redis(
        url=own_redis.url, timeout_s=TIMEOUT_S, on_error=lambda op, exc: errors.append(op)
    )
    try:
        keys = [unique_key() for _ in range(20)]

        async def traffic() -> None:
            for key in keys:
                await cache.set(key, answer(key), ttl_s=60)
                await cache.get(key)
                await asyncio.sleep(0.005)

        task = asyncio.create_task(traffic())
        await asyncio.sleep(0.03)
        own_redis.kill()
        await task  # nothing raised into the request path

        assert await _timed(cache.get(keys[0])) < TIMEOUT_S + SLACK_S
        assert await cache.get(keys[0]) is None
        assert await _timed(cache.set(keys[0], answer(), ttl_s=60)) < TIMEOUT_S + SLACK_S
        assert cache.stats.errors >= 3 and {"get", "set"} <= set(errors)

        own_redis.start()  # same port, empty: the old entries are gone
        await cache.set("after-restart", answer("back"), ttl_s=60)
        assert await cache.get("after-restart") == answer("back")
    finally:
        await cache.aclose()


async def test_a_hung_redis_costs_at_most_the_timeout_per_call(own_redis: RedisServer) -> None:
    cache = AiocacheResponseCache.redis(url=own_redis.url, timeout_s=TIMEOUT_S)
    try:
        await cache.set("warm", answer(), ttl_s=60)  # opens a pooled connection
        own_redis.pause()
        try:
            elapsed = await _timed(cache.get("warm"))
            assert elapsed < TIMEOUT_S + SLACK_S
            assert await cache.get("warm") is None
            await cache.set("warm", answer("new"), ttl_s=60)
            assert cache.stats.timeouts >= 3
        finally:
            own_redis.resume()
        # A timed-out SET may still land once Redis wakes up; what matters is that it works.
        await cache.set("after", answer("back"), ttl_s=60)
        assert await cache.get("after") == answer("back")
    finally:
        await cache.aclose()


async def test_memory_backend_roundtrip_and_ttl() -> None:
    cache = AiocacheResponseCache.in_memory(max_entries=10)
    await cache.set("k", answer(), ttl_s=0.1)
    assert await cache.get("k") == answer()
    await asyncio.sleep(0.15)
    assert await cache.get("k") is None
    assert len(cache.backend) == 0


async def test_memory_backend_is_bounded_and_evicts_the_least_recently_used() -> None:
    cache = AiocacheResponseCache.in_memory(max_entries=3)
    for name in ("a", "b", "c"):
        await cache.set(name, answer(name), ttl_s=60)
    assert await cache.get("a") is not None  # "a" is now the most recently used
    for name in ("d", "e"):
        await cache.set(name, answer(name), ttl_s=60)
    assert len(cache.backend) == 3
    assert cache.backend.evictions == 2
    assert [await cache.get(name) is not None for name in "abcde"] == [
        True,
        False,
        False,
        True,
        True,
    ]
    await cache.set("a", answer("a2"), ttl_s=60)  # replacing does not evict
    assert len(cache.backend) == 3 and cache.backend.evictions == 2


async def test_a_failing_memory_backend_still_fails_open_without_a_deadline() -> None:
    cache = AiocacheResponseCache.in_memory(max_entries=3)
    assert cache._guard.timeout_s is None  # no I/O to wait for: no timer per call

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("backend bug")

    cache.backend.get = broken  # type: ignore[method-assign]
    assert await cache.get("k") is None
    assert cache.stats.errors == 1 and cache.stats.timeouts == 0

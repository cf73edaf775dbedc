"""The in-memory limiter and quality store: windows roll over, request ids are bounded."""

from __future__ import annotations

import gc

from adapters.memory_limiter import MemoryRateLimiter
from adapters.memory_quality_store import MemoryQualityStore
from domain.quality import ServedRequest
from domain.rate_limits import RateLimit
from tests.fakes import FakeClock

RPM = RateLimit(requests_per_minute=2)
SERVED = ServedRequest(tenant="t", route="economy", model="m")


async def test_limiter_counts_per_tenant_and_rolls_over() -> None:
    limiter = MemoryRateLimiter()
    assert (await limiter.acquire("a", RPM, tokens=0, now=600.0)).allowed
    assert (await limiter.acquire("a", RPM, tokens=0, now=601.0)).allowed
    assert not (await limiter.acquire("a", RPM, tokens=0, now=602.0)).allowed
    assert (await limiter.acquire("b", RPM, tokens=0, now=602.0)).allowed
    # near the end of the next minute the previous one weighs almost nothing
    assert (await limiter.acquire("a", RPM, tokens=0, now=719.0)).allowed
    assert not (
        await limiter.acquire("a", RPM, tokens=0, now=719.5)
    ).allowed  # 2*(0.5/60) + 1 + 1 > 2


async def test_limiter_forgets_old_minutes() -> None:
    limiter = MemoryRateLimiter()
    await limiter.acquire("a", RPM, tokens=0, now=0.0)
    await limiter.acquire("a", RPM, tokens=0, now=600.0)
    assert all(minute >= 9 for _, _, minute in limiter._counts)


async def test_token_corrections_apply_to_their_minute_only() -> None:
    limiter = MemoryRateLimiter()
    tpm = RateLimit(tokens_per_minute=100)
    await limiter.acquire("a", tpm, tokens=90, now=60.0)
    await limiter.correct_tokens("a", 1, -80)
    await limiter.correct_tokens("a", 7, -80)  # no such minute: ignored
    assert (await limiter.acquire("a", tpm, tokens=90, now=61.0)).allowed


async def test_quality_store_claims_each_request_once_and_expires_them() -> None:
    clock = FakeClock(0.0)
    store = MemoryQualityStore(max_requests=2, request_ttl_s=10, clock=clock)
    for request_id in ("r1", "r2", "r3"):
        await store.remember(request_id, SERVED)
    assert await store.lookup("r1") is None  # evicted: bounded map
    assert await store.claim("r2") == SERVED
    assert await store.claim("r2") is None
    clock.advance(11)
    assert await store.lookup("r3") is None


async def test_remembered_requests_are_not_walked_by_the_garbage_collector() -> None:
    store = MemoryQualityStore()
    gc.collect()
    tracked_before = len(gc.get_objects())
    for number in range(5000):
        await store.remember(f"req-{number}", ServedRequest("acme", "auto", "small"))
    gc.collect()  # entries made only of strings and numbers are untracked here
    assert len(gc.get_objects()) - tracked_before < 100
    assert await store.lookup("req-42") == ServedRequest("acme", "auto", "small")


async def test_quality_store_keeps_the_last_window_of_scores() -> None:
    store = MemoryQualityStore()
    for score in (0.1, 0.2, 0.3):
        scores = await store.add_score("economy", "m", score, window=2)
    assert scores == [0.3, 0.2]
    assert await store.scores() == {("economy", "m"): [0.3, 0.2]}
    await store.set_demoted("economy", "m", True)
    assert await store.demoted() == {("economy", "m")}
    await store.reset("economy", "m")
    await store.set_demoted("economy", "m", False)
    assert (await store.scores(), await store.demoted()) == ({}, frozenset())

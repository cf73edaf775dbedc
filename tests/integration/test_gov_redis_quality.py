"""RedisQualityStore and RedisRateLimiter against a real redis-server, shared by two clients."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis

from adapters.memory_limiter import MemoryRateLimiter
from adapters.memory_spend_store import MemorySpendStore
from adapters.redis_limiter import RedisRateLimiter
from adapters.redis_quality_store import RedisQualityStore
from adapters.redis_support import redis_client
from app.services.governance import GovernanceService
from domain.governance_errors import UnknownRequestId
from domain.quality import QualityRule, ServedRequest
from domain.rate_limits import RateLimit
from domain.tenants import OPEN_TENANT, TenantDirectory
from tests.support.redis_server import RedisServer, running_redis

pytestmark = pytest.mark.redis
SERVED = ServedRequest(tenant="search", route="economy", model="Qwen/Qwen3-8B")


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture
async def clients(redis_server: RedisServer) -> AsyncIterator[list[aioredis.Redis]]:
    clients = [redis_client(redis_server.url, timeout_s=1.0) for _ in range(2)]
    yield clients
    for client in clients:
        await client.aclose()


@pytest.fixture
def stores(clients: list[aioredis.Redis]) -> list[RedisQualityStore]:
    prefix = f"test-{uuid.uuid4().hex}"
    return [RedisQualityStore(client=client, prefix=prefix, request_ttl_s=60) for client in clients]


async def test_a_request_remembered_by_one_pod_is_claimed_once_by_any(
    stores: list[RedisQualityStore],
) -> None:
    await stores[0].remember("req-1", SERVED)
    assert await stores[1].lookup("req-1") == SERVED
    assert await stores[1].claim("req-1") == SERVED
    assert await stores[0].claim("req-1") is None


async def test_scores_keep_the_last_window_and_demotions_are_shared(
    stores: list[RedisQualityStore],
) -> None:
    for score in (1.0, 0.0, 0.5):
        kept = await stores[0].add_score("economy", "Qwen/Qwen3-8B", score, window=2)
    assert kept == [0.5, 0.0]
    assert await stores[1].scores() == {("economy", "Qwen/Qwen3-8B"): [0.5, 0.0]}
    await stores[0].set_demoted("economy", "Qwen/Qwen3-8B", True)
    assert await stores[1].demoted() == {("economy", "Qwen/Qwen3-8B")}
    await stores[1].reset("economy", "Qwen/Qwen3-8B")
    await stores[1].set_demoted("economy", "Qwen/Qwen3-8B", False)
    assert (await stores[0].scores(), await stores[0].demoted()) == ({}, frozenset())


async def test_feedback_reaching_another_pod_demotes_everywhere(
    stores: list[RedisQualityStore],
) -> None:
    rule = QualityRule(window=10, min_samples=2, demote_below=0.8, restore_at=0.9)
    pods = [
        GovernanceService(
            directory=TenantDirectory(),
            spend=MemorySpendStore(),
            limiter=MemoryRateLimiter(),
            quality=store,
            quality_rule=rule,
        )
        for store in stores
    ]
    for request_id in ("a", "b"):
        await pods[0].remember(request_id, OPEN_TENANT, "economy", "glm")
    await pods[1].record_feedback(OPEN_TENANT, "a", thumbs="down")
    outcome = await pods[1].record_feedback(OPEN_TENANT, "b", thumbs="down")
    assert outcome.entry.demoted
    assert await pods[0].feedback.demoted_models("economy") == {"glm"}
    with pytest.raises(UnknownRequestId):
        await pods[0].record_feedback(OPEN_TENANT, "a", thumbs="up")


async def test_limiter_counts_are_shared_and_tokens_corrected(
    clients: list[aioredis.Redis],
) -> None:
    prefix = f"test-{uuid.uuid4().hex}"
    first, second = (RedisRateLimiter(client=c, prefix=prefix) for c in clients)
    tpm = RateLimit(tokens_per_minute=1000)
    assert (await first.acquire("t", tpm, tokens=800, now=60.0)).allowed
    refused = await second.acquire("t", tpm, tokens=300, now=61.0)
    assert not refused.allowed
    assert refused.headers["x-ratelimit-remaining-tokens"] == "200"
    await first.correct_tokens("t", 1, -700)  # the call used 100 tokens, not 800
    admitted = await second.acquire("t", tpm, tokens=300, now=62.0)
    assert admitted.allowed
    assert admitted.headers["x-ratelimit-remaining-tokens"] == "600"

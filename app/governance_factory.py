"""Building governance from settings (part of the composition root): stores, then the service."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass

import redis.asyncio as aioredis

from adapters.memory_limiter import MemoryRateLimiter
from adapters.memory_quality_store import MemoryQualityStore
from adapters.memory_spend_store import MemorySpendStore
from adapters.redis_limiter import RedisRateLimiter
from adapters.redis_quality_store import RedisQualityStore
from adapters.redis_spend_store import RedisSpendStore
from adapters.redis_support import redis_client
from app.readiness import ReadinessCheck
from app.services.governance import GovernanceService
from app.services.store_guard import FailureHook
from domain.governance_ports import QualityStore, RateLimiter, SpendStore
from infra.governance_builder import build_directory, build_quality_rule, redis_url
from infra.settings import GovernanceSettings, Settings


@dataclass(frozen=True, slots=True)
class GovernanceStores:
    spend: SpendStore
    limiter: RateLimiter
    quality: QualityStore
    wait: bool = True  # False: in process memory, every call answers without waiting


def memory_stores(settings: GovernanceSettings) -> GovernanceStores:
    return GovernanceStores(
        spend=MemorySpendStore(),
        limiter=MemoryRateLimiter(),
        quality=MemoryQualityStore(
            max_requests=settings.recent_requests, request_ttl_s=float(settings.feedback_ttl_s)
        ),
        wait=False,
    )


def redis_stores(settings: GovernanceSettings, client: aioredis.Redis) -> GovernanceStores:
    prefix, timeout_s = settings.key_prefix, settings.store_timeout_s
    return GovernanceStores(
        spend=RedisSpendStore(
            client=client,
            prefix=prefix,
            timeout_s=timeout_s,
            retention_days=settings.spend_retention_days,
        ),
        limiter=RedisRateLimiter(client=client, prefix=prefix, timeout_s=timeout_s),
        quality=RedisQualityStore(
            client=client,
            prefix=prefix,
            request_ttl_s=settings.feedback_ttl_s,
            timeout_s=timeout_s,
        ),
    )


async def open_governance_stores(
    settings: Settings,
) -> AsyncGenerator[GovernanceStores, None]:
    """A container Resource: memory stores, or Redis ones whose client closes at shutdown."""
    governance = settings.governance
    url = redis_url(governance)
    if url is None:
        yield memory_stores(governance)
        return
    client = redis_client(url, timeout_s=governance.store_timeout_s)
    try:
        yield redis_stores(governance, client)
    finally:
        with contextlib.suppress(Exception):  # shutting down: a dead Redis is not news
            await client.aclose()


def build_governance(
    settings: Settings, stores: GovernanceStores, on_store_failure: FailureHook | None = None
) -> GovernanceService:
    return GovernanceService(
        directory=build_directory(settings.governance),
        spend=stores.spend,
        limiter=stores.limiter,
        quality=stores.quality,
        quality_rule=build_quality_rule(settings.governance),
        on_store_failure=on_store_failure,
        stores_wait=stores.wait,
    )


def spend_store_check(stores: GovernanceStores) -> ReadinessCheck:
    """For `Readiness`: "ok" while the spend store answers (always, for memory)."""

    async def check() -> str:
        await stores.spend.ping()
        return "ok"

    return check

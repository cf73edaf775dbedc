"""With Redis dead or hung, governance fails open quickly and counts it; reports fail loudly."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from adapters.redis_support import redis_client
from app.governance_factory import redis_stores, spend_store_check
from app.services.governance import GovernanceService
from domain.budgets import Budget, CostQuote, SpendLimit, budget_lines
from domain.governance_errors import StoreUnavailable
from domain.pricing import Cost, Usage
from domain.quality import QualityRule
from domain.rate_limits import RateLimit
from domain.tenants import OPEN_TENANT, Tenant, TenantDirectory
from infra.settings import GovernanceSettings
from tests.support.redis_server import RedisServer, running_redis

pytestmark = pytest.mark.redis
TIMEOUT_S = 0.2
LIMITED = Tenant(
    name="search",
    budget=Budget(daily=SpendLimit(hard_usd=Decimal("1"))),
    rate_limit=RateLimit(requests_per_minute=10),
)


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


async def _one_call(gov: GovernanceService) -> float:
    started = time.monotonic()
    admission = await gov.admit(
        LIMITED, "f", estimated_tokens=10, worst_case=lambda: CostQuote(Decimal("0.5"))
    )
    assert admission.reserved_units == 0  # failed open: nothing could be reserved
    await gov.settle(
        admission, cost=Cost(usd=Decimal("0.1")), usage=Usage(1, 1), route="r", model="m"
    )
    return time.monotonic() - started


@pytest.mark.parametrize("failure", ["kill", "pause"])
async def test_governance_fails_open_when_redis_is_down(
    own_redis: RedisServer, failure: str
) -> None:
    client = redis_client(own_redis.url, timeout_s=TIMEOUT_S)
    stores = redis_stores(GovernanceSettings(store_timeout_s=TIMEOUT_S), client)
    failures: list[str] = []
    gov = GovernanceService(
        directory=TenantDirectory(),
        spend=stores.spend,
        limiter=stores.limiter,
        quality=stores.quality,
        quality_rule=QualityRule(),
        on_store_failure=failures.append,
    )
    try:
        assert await spend_store_check(stores)() == "ok"
        getattr(own_redis, failure)()
        elapsed = await _one_call(gov)
        assert elapsed < 4 * TIMEOUT_S + 0.5  # rate limit, balances, settle: each bounded
        assert failures == ["rate limit", "balances", "settle"]
        with pytest.raises(StoreUnavailable):
            await gov.spend_report(OPEN_TENANT, "tenant", None, None)
        with pytest.raises(StoreUnavailable):
            await spend_store_check(stores)()
        await gov.remember("r", OPEN_TENANT, "economy", "m")  # fails open too
        assert failures[-1] == "remember"
    finally:
        if failure == "pause":
            own_redis.resume()
        await client.aclose()


async def test_enforcement_resumes_when_redis_is_back(own_redis: RedisServer) -> None:
    client = redis_client(own_redis.url, timeout_s=TIMEOUT_S)
    stores = redis_stores(GovernanceSettings(store_timeout_s=TIMEOUT_S), client)
    gov = GovernanceService(
        directory=TenantDirectory(),
        spend=stores.spend,
        limiter=stores.limiter,
        quality=stores.quality,
        quality_rule=QualityRule(),
    )
    try:
        own_redis.kill()
        await _one_call(gov)
        own_redis.start()
        admission = await gov.admit(
            LIMITED, "f", estimated_tokens=10, worst_case=lambda: CostQuote(Decimal("0.5"))
        )
        assert admission.reserved_units > 0
        lines = budget_lines("search", "f", LIMITED.budget, Budget(), now=time.time())
        assert (await stores.spend.balances(lines))[0].reserved_units == admission.reserved_units
    finally:
        await client.aclose()

"""Two gateway processes (two services, two Redis clients) sharing budgets and rate limits."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import redis.asyncio as aioredis

from adapters.redis_limiter import RedisRateLimiter
from adapters.redis_quality_store import RedisQualityStore
from adapters.redis_spend_store import RedisSpendStore
from adapters.redis_support import redis_client
from app.services.governance import GovernanceService
from domain.budgets import Budget, CostQuote, SpendLimit, budget_lines
from domain.errors import BudgetExceeded, RateLimited
from domain.pricing import Cost, Usage
from domain.quality import QualityRule
from domain.rate_limits import MinuteWindow, RateLimit
from domain.tenants import OPEN_TENANT, Tenant, TenantDirectory
from tests.support.redis_server import RedisServer, running_redis

pytestmark = pytest.mark.redis
NOW = datetime(2025, 3, 14, 12, 0, 10, tzinfo=UTC).timestamp()
CALLS = 200


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
async def gateways(
    redis_server: RedisServer, prefix: str
) -> AsyncIterator[list[GovernanceService]]:
    """Two independent processes' worth of governance: own clients, own pools, one Redis."""
    clients = [redis_client(redis_server.url, timeout_s=2.0) for _ in range(2)]
    yield [_gateway(client, prefix) for client in clients]
    for client in clients:
        await client.aclose()


@pytest.fixture
async def inspector(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = redis_client(redis_server.url, timeout_s=2.0)
    yield client
    await client.aclose()


def _gateway(client: aioredis.Redis, prefix: str) -> GovernanceService:
    return GovernanceService(
        directory=TenantDirectory(),
        spend=RedisSpendStore(client=client, prefix=prefix, timeout_s=2.0),
        limiter=RedisRateLimiter(client=client, prefix=prefix, timeout_s=2.0),
        quality=RedisQualityStore(client=client, prefix=prefix, timeout_s=2.0),
        quality_rule=QualityRule(),
        wall_clock=lambda: NOW,
    )


async def _call(
    gateway: GovernanceService,
    tenant: Tenant,
    *,
    worst: Decimal,
    actual: Decimal,
    charged: list[Decimal],
    gate: asyncio.Semaphore | None = None,
) -> bool:
    async with gate or contextlib.nullcontext():
        try:
            admission = await gateway.admit(
                tenant, "load", estimated_tokens=100, worst_case=lambda: CostQuote(worst)
            )
        except BudgetExceeded:
            return False
        try:
            await asyncio.sleep(random.uniform(0, 0.01))  # the upstream call
        finally:
            await gateway.settle(
                admission,
                cost=Cost(usd=actual, baseline_usd=actual * 10),
                usage=Usage(60, 40),
                route="economy",
                model="m",
            )
        charged.append(actual)  # what the response's x-tiergate-cost-usd header said
        return True


async def test_hard_limit_holds_across_two_processes(
    gateways: list[GovernanceService], inspector: aioredis.Redis, prefix: str
) -> None:
    tenant = Tenant(name="search", budget=Budget(daily=SpendLimit(hard_usd=Decimal("1"))))
    charged: list[Decimal] = []
    chance = random.Random(7)
    actuals = [Decimal(chance.randint(1, 3 * 10**8)).scaleb(-10) for _ in range(CALLS)]
    admitted = await asyncio.gather(
        *(
            _call(
                gateways[i % 2], tenant, worst=Decimal("0.03"), actual=actuals[i], charged=charged
            )
            for i in range(CALLS)
        )
    )
    assert 33 <= sum(admitted) < CALLS  # at least the first wave fits, the rest is refused
    spent = sum(charged, Decimal(0))
    assert spent <= Decimal("1")  # no overspend: every call spent at most its reservation
    lines = budget_lines("search", "load", tenant.budget, Budget(), now=NOW)
    balances = await RedisSpendStore(client=inspector, prefix=prefix).balances(lines)
    assert [b.reserved_units for b in balances] == [0, 0, 0, 0]  # every reservation released
    report = await gateways[0].spend_report(OPEN_TENANT, "tenant", None, None)
    assert report.total.cost_usd == spent  # exact: the ledger equals the sum of the headers
    assert report.total.requests == sum(admitted)
    assert report.total.baseline_usd == spent * 10


async def test_overspend_is_bounded_by_the_calls_in_flight(
    gateways: list[GovernanceService],
) -> None:
    """Calls that spend more than reserved (e.g. an escalating cascade) can pass the limit,
    but only by what the calls already in flight add on top of their reservations."""
    tenant = Tenant(name="cascade", budget=Budget(daily=SpendLimit(hard_usd=Decimal("1"))))
    in_flight = 20
    gate = asyncio.Semaphore(in_flight)
    charged: list[Decimal] = []
    worst, actual = Decimal("0.01"), Decimal("0.03")
    await asyncio.gather(
        *(
            _call(gateways[i % 2], tenant, worst=worst, actual=actual, charged=charged, gate=gate)
            for i in range(CALLS)
        )
    )
    spent = sum(charged, Decimal(0))
    assert Decimal("1") < spent <= Decimal("1") + in_flight * (actual - worst)


async def test_rate_limit_holds_across_two_processes(
    gateways: list[GovernanceService], inspector: aioredis.Redis, prefix: str
) -> None:
    tenant = Tenant(name="chatty", rate_limit=RateLimit(requests_per_minute=50))

    async def call(gateway: GovernanceService) -> bool:
        try:
            await gateway.release(
                await gateway.admit(
                    tenant, None, estimated_tokens=1, worst_case=lambda: CostQuote(Decimal(0))
                )
            )
        except RateLimited:
            return False
        return True

    admitted = await asyncio.gather(*(call(gateways[i % 2]) for i in range(120)))
    assert 0 < sum(admitted) <= 50
    # refused calls took their count back: the counter holds exactly the admitted calls
    key = f"{prefix}:rate:chatty:requests:{MinuteWindow.at(NOW).index}"
    assert int(await inspector.get(key) or 0) == sum(admitted)

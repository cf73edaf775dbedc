"""RedisSpendStore against a real redis-server: atomic reservations, windows, the ledger."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import redis.asyncio as aioredis

from adapters.memory_spend_store import MemorySpendStore
from adapters.redis_spend_store import RedisSpendStore
from adapters.redis_support import redis_client
from domain.budgets import Balance, Budget, SpendLimit, budget_lines
from domain.ledger import SpendRecord, from_units, to_units
from domain.pricing import Cost, Usage
from domain.spend_report import DayRange, GroupBy, summarize
from tests.support.redis_server import RedisServer, running_redis

pytestmark = pytest.mark.redis
MARCH_14 = datetime(2025, 3, 14, 12, tzinfo=UTC).timestamp()
MARCH_15 = MARCH_14 + 86_400
APRIL_1 = datetime(2025, 4, 1, 1, tzinfo=UTC).timestamp()
HARD = Budget(daily=SpendLimit(hard_usd=Decimal("1")))


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture
async def client(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = redis_client(redis_server.url, timeout_s=1.0)
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
def store(client: aioredis.Redis, prefix: str) -> RedisSpendStore:
    return RedisSpendStore(client=client, prefix=prefix)


def record(
    day: str, usd: str, *, tenant: str = "search", feature: str = "rerank", model: str = "m1"
) -> SpendRecord:
    return SpendRecord(
        day=day,
        tenant=tenant,
        feature=feature,
        route="economy",
        model=model,
        usage=Usage(100, 20),
        cost=Cost(usd=Decimal(usd), baseline_usd=Decimal(usd) * 3),
    )


async def test_reserve_then_settle_moves_the_worst_case_to_the_actual_cost(
    store: RedisSpendStore,
) -> None:
    lines = budget_lines("search", "rerank", HARD, Budget(), now=MARCH_14)
    outcome = await store.reserve(lines, to_units(Decimal("0.3")))
    assert outcome.reserved
    assert outcome.balances[0] == Balance(0, to_units(Decimal("0.3")))
    assert await store.balances(lines) == outcome.balances
    await store.settle(lines, to_units(Decimal("0.3")), record("2025-03-14", "0.1234567891"))
    assert await store.balances(lines) == [Balance(1_234_567_891, 0)] * 4


async def test_a_reservation_past_the_hard_limit_changes_nothing(store: RedisSpendStore) -> None:
    lines = budget_lines("search", "rerank", HARD, Budget(), now=MARCH_14)
    assert (await store.reserve(lines, to_units(Decimal("0.7")))).reserved
    refused = await store.reserve(lines, to_units(Decimal("0.31")))
    assert not refused.reserved
    assert refused.balances[0] == Balance(0, to_units(Decimal("0.7")))
    assert (await store.reserve(lines, to_units(Decimal("0.3")))).reserved  # exactly at the limit


async def test_day_lines_reset_daily_and_month_lines_accumulate(
    store: RedisSpendStore, client: aioredis.Redis, prefix: str
) -> None:
    for moment, day in (
        (MARCH_14, "2025-03-14"),
        (MARCH_15, "2025-03-15"),
        (APRIL_1, "2025-04-01"),
    ):
        lines = budget_lines("search", "rerank", HARD, Budget(), now=moment)
        await store.settle(lines, 0, record(day, "0.5"))
    march_15 = await store.balances(budget_lines("search", "x", HARD, Budget(), now=MARCH_15))
    assert march_15[0].committed_units == to_units(Decimal("0.5"))  # that day only
    assert march_15[1].committed_units == to_units(Decimal("1.0"))  # all of March
    april = await store.balances(budget_lines("search", "x", HARD, Budget(), now=APRIL_1))
    assert april[1].committed_units == to_units(Decimal("0.5"))
    day_key = f"{prefix}:budget:tenant:search:day:2025-03-15"
    month_key = f"{prefix}:budget:tenant:search:month:2025-03"
    assert 0 < await client.ttl(day_key) <= 3 * 86_400 < await client.ttl(month_key)


async def test_ledger_rows_group_and_filter_by_day_and_tenant(store: RedisSpendStore) -> None:
    lines = budget_lines("search", "rerank", Budget(), Budget(), now=MARCH_14)
    await store.settle(lines, 0, record("2025-03-14", "0.10"))
    await store.settle(lines, 0, record("2025-03-14", "0.20", feature="digest", model="m2"))
    await store.settle(lines, 0, record("2025-03-15", "0.40", tenant="billing"))
    await store.settle(lines, 0, record("2025-03-16", "0.80"))
    days = DayRange(datetime(2025, 3, 14).date(), datetime(2025, 3, 15).date())
    rows = await store.rows(days.days, None)
    by_feature = summarize(rows, GroupBy.FEATURE, days)
    assert {g.key: g.totals.cost_usd for g in by_feature.groups} == {
        "rerank": Decimal("0.5"),
        "digest": Decimal("0.2"),
    }
    assert by_feature.total.requests == 3
    assert by_feature.total.baseline_usd == Decimal("2.1")
    by_day = summarize(rows, GroupBy.DAY, days)
    assert [(g.key, g.totals.requests) for g in by_day.groups] == [
        ("2025-03-14", 2),
        ("2025-03-15", 1),
    ]
    only_search = summarize(await store.rows(days.days, "search"), GroupBy.MODEL, days)
    assert {g.key: g.totals.requests for g in only_search.groups} == {"m1": 1, "m2": 1}
    assert only_search.total.input_tokens == 200


async def test_redis_store_decides_like_the_memory_store(store: RedisSpendStore) -> None:
    """Differential check: random reserves and settles give the same answers on both."""
    chance = random.Random(6)
    memory = MemorySpendStore()
    budget = Budget(
        daily=SpendLimit(hard_usd=from_units(5_000)), monthly=SpendLimit(hard_usd=from_units(9_000))
    )
    feature = Budget(daily=SpendLimit(hard_usd=from_units(3_000)))
    lines = budget_lines("t", "f", budget, feature, now=MARCH_14)
    held: list[int] = []
    for _ in range(300):
        if held and chance.random() < 0.4:
            amount = held.pop(chance.randrange(len(held)))
            spent = record("2025-03-14", str(from_units(chance.randint(0, amount))))
            await memory.settle(lines, amount, spent)
            await store.settle(lines, amount, spent)
        else:
            amount = chance.randint(0, 1_500)
            expected = await memory.reserve(lines, amount)
            assert await store.reserve(lines, amount) == expected
            if expected.reserved:
                held.append(amount)
    assert await store.balances(lines) == await memory.balances(lines)


async def test_redis_and_memory_ledgers_give_the_same_rows(store: RedisSpendStore) -> None:
    """Differential check: the memory store sums calls into groups only when asked for rows."""
    chance = random.Random(11)
    memory = MemorySpendStore()
    lines = budget_lines("search", "rerank", Budget(), Budget(), now=MARCH_14)
    for _ in range(200):
        spent = record(
            chance.choice(["2025-03-14", "2025-03-15"]),
            str(from_units(chance.randint(0, 10_000))),
            tenant=chance.choice(["search", "billing"]),
            feature=chance.choice(["rerank", "digest", "chat"]),
            model=chance.choice(["m1", "m2"]),
        )
        await memory.settle(lines, 0, spent)
        await store.settle(lines, 0, spent)
    days = ["2025-03-14", "2025-03-15", "2025-03-16"]
    for tenant in (None, "billing"):
        expected = sorted(await store.rows(days, tenant), key=repr)
        assert sorted(await memory.rows(days, tenant), key=repr) == expected
        assert len(expected) == (2 if tenant else 4) * (1 + 3 + 2 + 1)  # days x groups

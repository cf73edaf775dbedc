"""`RateLimiter` on Redis: count first, then check, and take the count back if refused.

Counting before checking means concurrent calls see each other's increments, so the limit is
never exceeded across processes; at worst a call near the limit is refused that a strictly
serial order would have admitted. Keys are per tenant, dimension and minute, and expire.
"""

from __future__ import annotations

import contextlib

import redis.asyncio as aioredis

from adapters.redis_support import unavailable_on_error
from domain.governance_errors import StoreUnavailable
from domain.rate_limits import (
    MinuteWindow,
    RateDecision,
    RateLimit,
    WindowCounts,
    allowances,
    check_rate,
)

_KEY_TTL_S = 180


class RedisRateLimiter:
    def __init__(
        self, *, client: aioredis.Redis, prefix: str = "tiergate", timeout_s: float = 0.5
    ) -> None:
        self.client = client
        self._prefix = prefix
        self._timeout_s = timeout_s

    async def acquire(
        self, tenant: str, limit: RateLimit, *, tokens: int, now: float
    ) -> RateDecision:
        window = MinuteWindow.at(now)
        costs = {"requests": 1, "tokens": tokens}
        names = limit.dimensions
        async with (
            unavailable_on_error("rate limiter", "acquire", self._timeout_s),
            self.client.pipeline(transaction=True) as pipe,
        ):
            for name in names:
                current = self._key(tenant, name, window.index)
                pipe.incrby(current, costs[name])
                pipe.expire(current, _KEY_TTL_S)
                pipe.get(self._key(tenant, name, window.index - 1))
            replies = await pipe.execute()
        counts = {
            name: WindowCounts(
                previous=int(replies[3 * i + 2] or 0),
                current=int(replies[3 * i]) - costs[name],
            )
            for i, name in enumerate(names)
        }
        empty = WindowCounts()
        dims = allowances(
            limit,
            counts.get("requests", empty),
            counts.get("tokens", empty),
            token_cost=tokens,
        )
        decision = check_rate(dims, window)
        if not decision.allowed:
            # Refused stays refused even if Redis fails now: the count is merely left high.
            with contextlib.suppress(StoreUnavailable):
                await self._take_back(tenant, window.index, {name: costs[name] for name in names})
        return decision

    async def correct_tokens(self, tenant: str, minute: int, delta: int) -> None:
        if delta:
            await self._take_back(tenant, minute, {"tokens": -delta})

    async def _take_back(self, tenant: str, minute: int, amounts: dict[str, int]) -> None:
        async with (
            unavailable_on_error("rate limiter", "take back", self._timeout_s),
            self.client.pipeline(transaction=True) as pipe,
        ):
            for name, amount in amounts.items():
                pipe.decrby(self._key(tenant, name, minute), amount)
                pipe.expire(self._key(tenant, name, minute), _KEY_TTL_S)
            await pipe.execute()

    def _key(self, tenant: str, name: str, minute: int) -> str:
        return f"{self._prefix}:rate:{tenant}:{name}:{minute}"

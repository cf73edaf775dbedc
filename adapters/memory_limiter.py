"""`RateLimiter` in process memory: per-minute counters per tenant, old minutes dropped."""

from __future__ import annotations

from domain.rate_limits import (
    MinuteWindow,
    RateDecision,
    RateLimit,
    WindowCounts,
    allowances,
    check_rate,
)

_Key = tuple[str, str, int]  # (tenant, "requests" | "tokens", minute)


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._counts: dict[_Key, int] = {}
        self._oldest_kept = 0

    async def acquire(
        self, tenant: str, limit: RateLimit, *, tokens: int, now: float
    ) -> RateDecision:
        window = MinuteWindow.at(now)
        self._forget_before(window.index - 1)
        dims = allowances(
            limit,
            self._counts_of(tenant, "requests", window.index),
            self._counts_of(tenant, "tokens", window.index),
            token_cost=tokens,
        )
        decision = check_rate(dims, window)
        if decision.allowed:
            for dim in dims:
                key = (tenant, dim.name, window.index)
                self._counts[key] = self._counts.get(key, 0) + dim.cost
        return decision

    async def correct_tokens(self, tenant: str, minute: int, delta: int) -> None:
        key = (tenant, "tokens", minute)
        if key in self._counts:
            self._counts[key] = max(0, self._counts[key] + delta)

    def _counts_of(self, tenant: str, name: str, minute: int) -> WindowCounts:
        return WindowCounts(
            previous=self._counts.get((tenant, name, minute - 1), 0),
            current=self._counts.get((tenant, name, minute), 0),
        )

    def _forget_before(self, minute: int) -> None:
        if minute <= self._oldest_kept:
            return
        self._oldest_kept = minute
        for key in [key for key in self._counts if key[2] < minute]:
            del self._counts[key]

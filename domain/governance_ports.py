"""Ports of governance: budget balances and the spend ledger, rate-limit counters, quality stats.

Implementations raise `domain.governance_errors.StoreUnavailable` when their backend is down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.budgets import Balance, BudgetLine
from domain.ledger import SpendRecord
from domain.quality import ServedRequest
from domain.rate_limits import RateDecision, RateLimit
from domain.spend_report import SpendRow


@dataclass(frozen=True, slots=True)
class ReserveOutcome:
    reserved: bool
    balances: list[Balance]  # after the reservation, or as they stood when it was refused


class SpendStore(Protocol):
    """Budget balances per line (scope x window) and the per-day spend ledger.

    `reserve` is atomic across processes: it adds `amount_units` to every line's reserve only if
    committed + reserved + amount stays within every hard limit, else changes nothing. `settle`
    releases a reservation and commits the actual spend, to the lines and the ledger, atomically.
    """

    async def balances(self, lines: Sequence[BudgetLine]) -> list[Balance]: ...

    async def reserve(self, lines: Sequence[BudgetLine], amount_units: int) -> ReserveOutcome: ...

    async def settle(
        self, lines: Sequence[BudgetLine], reserved_units: int, record: SpendRecord | None
    ) -> None: ...

    async def rows(self, days: Sequence[str], tenant: str | None) -> list[SpendRow]: ...

    async def ping(self) -> None: ...


class RateLimiter(Protocol):
    """Sliding-minute request and token counters per tenant.

    `acquire` counts the call only if every configured limit has room (never over-admits under
    concurrency); `correct_tokens` replaces an estimate with the actual count afterwards.
    """

    async def acquire(
        self, tenant: str, limit: RateLimit, *, tokens: int, now: float
    ) -> RateDecision: ...

    async def correct_tokens(self, tenant: str, minute: int, delta: int) -> None: ...


class QualityStore(Protocol):
    """Recent request ids (for feedback), rolling scores per (route, model), and demotions."""

    async def remember(self, request_id: str, served: ServedRequest) -> None: ...

    async def lookup(self, request_id: str) -> ServedRequest | None: ...

    async def claim(self, request_id: str) -> ServedRequest | None:
        """Forget the id and return what it was, once: a second rating finds nothing."""
        ...

    async def add_score(self, route: str, model: str, score: float, *, window: int) -> list[float]:
        """Append a score, keep the last `window`, and return them (newest first)."""
        ...

    async def scores(self) -> dict[tuple[str, str], list[float]]: ...

    async def demoted(self) -> frozenset[tuple[str, str]]: ...

    async def set_demoted(self, route: str, model: str, demoted: bool) -> None: ...

    async def reset(self, route: str, model: str) -> None: ...

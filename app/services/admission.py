"""Admission control: rate limits, then budgets and the max-cost cap; and settling afterwards.

Budgets use reserve-then-settle: the worst case is reserved atomically before the call (never
past a hard limit), and replaced by the actual cost afterwards. Overspend can then only come
from calls that spend more than they reserved, and is bounded by the calls in flight.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from app.services.store_guard import StoreGuard
from domain.budgets import (
    Balance,
    BudgetDecision,
    BudgetLine,
    CostQuote,
    Verdict,
    budget_lines,
    decide_budget,
    parse_max_cost,
)
from domain.governance_errors import HardLimitReached, MaxCostExceeded, TenantRateLimited
from domain.governance_ports import RateLimiter, ReserveOutcome, SpendStore
from domain.ledger import SpendRecord, from_units
from domain.rate_limits import MinuteWindow, RateDecision
from domain.spend_windows import SpendWindow, windows_at
from domain.tenants import Tenant, feature_tag

logger = logging.getLogger(__name__)
_UNKNOWN = Balance()
_ALLOWED = BudgetDecision(Verdict.ALLOW)
_NOT_LIMITED = RateDecision(True)  # no limit to count against: nothing to report either
_RESERVE_ATTEMPTS = 3  # a refused reservation re-decides on fresh balances, then gives up
# Budget lines kept for this many (tenant, feature) pairs; feature tags come from a request
# header, so the memo is bounded and simply starts over when full.
_LINES_KEPT = 4096
Windows = tuple[SpendWindow, SpendWindow]


@dataclass(slots=True)
class Admission:
    """A call let through: how (downgraded or not), what is reserved, and its limit headers."""

    tenant: Tenant
    feature: str
    downgrade_to_economy: bool
    reason: str | None  # why it was downgraded: "budget" | "max-cost"
    detail: str
    lines: tuple[BudgetLine, ...]
    reserved_units: int
    estimated_tokens: int
    minute: int | None  # the minute whose token count holds the estimate, if TPM applies
    rate_limit_headers: dict[str, str] = field(default_factory=dict)
    settled: bool = False

    @property
    def reservation_usd(self) -> Decimal:
        return from_units(self.reserved_units)

    @property
    def day(self) -> str:
        return self.lines[0].window.label


class AdmissionControl:
    def __init__(
        self,
        *,
        spend: SpendStore,
        limiter: RateLimiter,
        guard: StoreGuard,
        wall_clock: Callable[[], float] = time.time,
        stores_wait: bool = True,
    ) -> None:
        """`stores_wait=False` for stores that answer without waiting (process memory): their
        writes cannot be interrupted, so settling them needs no shield (a task per call, ~2.5%
        of a call's cost)."""
        self._spend = spend
        self._limiter = limiter
        self._guard = guard
        self._wall_clock = wall_clock
        self._stores_wait = stores_wait
        self._lines: dict[tuple[str, str], tuple[Windows, Tenant, tuple[BudgetLine, ...]]] = {}

    async def admit(
        self,
        tenant: Tenant,
        feature: str | None,
        *,
        estimated_tokens: int,
        worst_case: Callable[[], CostQuote],
        max_cost_header: str | None,
    ) -> Admission:
        max_cost = parse_max_cost(max_cost_header)
        tag = feature_tag(feature)
        now = self._wall_clock()
        rate, minute = await self._take_rate(tenant, estimated_tokens, now)
        lines = self._lines_for(tenant, tag, now)
        try:
            decision, reserved = await self._reserve(lines, worst_case, max_cost, now)
        except BaseException:
            await self._correct_tokens(tenant, minute, -estimated_tokens)
            raise
        return Admission(
            tenant=tenant,
            feature=tag,
            downgrade_to_economy=decision.verdict is Verdict.DOWNGRADE,
            reason=decision.reason,
            detail=decision.detail,
            lines=lines,
            reserved_units=reserved,
            estimated_tokens=estimated_tokens,
            minute=minute,
            rate_limit_headers=rate.headers,
        )

    def may_downgrade(
        self, tenant: Tenant, feature: str | None, max_cost_header: str | None
    ) -> bool:
        """Whether admission could downgrade this call: only a budget or a max-cost cap can."""
        if max_cost_header is not None or tenant.budget.limited:
            return True
        return tenant.budget_for(feature_tag(feature)).limited

    def unreserved(self, tenant: Tenant, feature: str) -> Admission:
        """For a call the gateway makes by itself: charged to the lines, nothing reserved."""
        tag = feature_tag(feature)
        lines = self._lines_for(tenant, tag, self._wall_clock())
        return Admission(
            tenant=tenant,
            feature=tag,
            downgrade_to_economy=False,
            reason=None,
            detail="",
            lines=lines,
            reserved_units=0,
            estimated_tokens=0,
            minute=None,
        )

    async def close(
        self, admission: Admission, record: SpendRecord | None, *, actual_tokens: int
    ) -> None:
        """Settle once: release the reservation, commit `record`, correct the token count."""
        if admission.settled:
            return
        admission.settled = True
        write = self._write(admission, record, actual_tokens)
        if self._stores_wait:
            # Shielded: a client disconnect cancelling the caller must not lose the record.
            await asyncio.shield(write)
        else:
            await write  # nothing in it waits, so nothing can interrupt it: no task needed

    def _lines_for(self, tenant: Tenant, feature: str, now: float) -> tuple[BudgetLine, ...]:
        """The lines change only with the tenant's settings, the feature and the UTC day, so
        they are built once for each and reused (they were ~2% of a call's work)."""
        windows = windows_at(now)  # the same object all day long
        kept = self._lines.get((tenant.name, feature))
        if kept is not None and kept[0] is windows and kept[1] is tenant:
            return kept[2]
        budget = tenant.budget_for(feature)
        lines = budget_lines(tenant.name, feature, tenant.budget, budget, now=now)
        if len(self._lines) >= _LINES_KEPT:
            self._lines.clear()
        self._lines[tenant.name, feature] = (windows, tenant, lines)
        return lines

    async def _take_rate(
        self, tenant: Tenant, tokens: int, now: float
    ) -> tuple[RateDecision, int | None]:
        if not tenant.rate_limit.active:
            return _NOT_LIMITED, None
        unchecked = RateDecision(True)  # what a failing limiter answers: fail open
        rate = await self._guard.run(
            "rate limit",
            partial(self._limiter.acquire, tenant.name, tenant.rate_limit, tokens=tokens, now=now),
            unchecked,
        )
        if not rate.allowed:
            raise TenantRateLimited(
                rate.detail, retry_after_s=rate.retry_after_s, headers=rate.headers
            )
        counted = rate is not unchecked and tenant.rate_limit.tokens_per_minute is not None
        return rate, MinuteWindow.at(now).index if counted else None

    async def _reserve(
        self,
        lines: tuple[BudgetLine, ...],
        worst_case: Callable[[], CostQuote],
        max_cost: Decimal | None,
        now: float,
    ) -> tuple[BudgetDecision, int]:
        limited = any(line.limit.limited for line in lines)
        if not limited and max_cost is None:
            return _ALLOWED, 0  # nothing could refuse or downgrade the call: no need to price it
        quote = worst_case()
        unknown = [_UNKNOWN] * len(lines)
        balances = unknown
        if limited:
            balances = await self._guard.run(
                "balances", partial(self._spend.balances, lines), unknown
            )
        decision = decide_budget(lines, balances, quote, max_cost_usd=max_cost, now=now)
        if not limited or balances is unknown:
            return _admitted(decision), 0  # nothing to enforce, or failing open: no reservation
        for _ in range(_RESERVE_ATTEMPTS):
            decision = _admitted(decision)
            failed = ReserveOutcome(reserved=False, balances=unknown)
            outcome = await self._guard.run(
                "reserve", partial(self._spend.reserve, lines, decision.amount_units), failed
            )
            if outcome is failed:
                return decision, 0
            if outcome.reserved:
                return decision, decision.amount_units
            decision = decide_budget(lines, outcome.balances, quote, max_cost_usd=max_cost, now=now)
        raise HardLimitReached(
            "Budget exhausted by calls in flight; retry shortly.", retry_after_s=1.0
        )

    async def _write(
        self, admission: Admission, record: SpendRecord | None, actual_tokens: int
    ) -> None:
        try:
            await self._guard.run(
                "settle",
                partial(self._spend.settle, admission.lines, admission.reserved_units, record),
                None,
            )
            delta = actual_tokens - admission.estimated_tokens
            await self._correct_tokens(admission.tenant, admission.minute, delta)
        except Exception:  # called from `finally` blocks: log, never mask the caller's outcome
            logger.exception("governance settle failed")

    async def _correct_tokens(self, tenant: Tenant, minute: int | None, delta: int) -> None:
        if minute is None or not delta:
            return
        if minute < MinuteWindow.at(self._wall_clock()).index - 1:
            return  # that minute no longer counts toward any limit
        await self._guard.run(
            "correct tokens",
            partial(self._limiter.correct_tokens, tenant.name, minute, delta),
            None,
        )


def _admitted(decision: BudgetDecision) -> BudgetDecision:
    """The decision if it lets the call through; otherwise the error to answer with."""
    if decision.verdict is not Verdict.REJECT:
        return decision
    if decision.max_cost_exceeded:
        raise MaxCostExceeded(decision.detail, param="x-tiergate-max-cost-usd")
    raise HardLimitReached(
        f"Budget exceeded: {decision.detail}.", retry_after_s=decision.retry_after_s or 60.0
    )

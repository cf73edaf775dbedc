"""Budgets: soft limits downgrade to the economy tier, hard limits reject; plus the max-cost cap."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from domain.errors import InvalidRequest
from domain.ledger import from_units, to_units
from domain.pricing import format_usd
from domain.spend_windows import Period, SpendWindow, seconds_until_end, windows_at

MAX_COST_HEADER = "x-tiergate-max-cost-usd"


@dataclass(frozen=True, slots=True)
class SpendLimit:
    """Limits for one calendar window; None means no limit."""

    soft_usd: Decimal | None = None
    hard_usd: Decimal | None = None

    def __post_init__(self) -> None:
        for amount in (self.soft_usd, self.hard_usd):
            if amount is not None and amount < 0:
                raise ValueError("spend limits must not be negative")
        soft, hard = self.soft_usd, self.hard_usd
        if soft is not None and hard is not None and soft > hard:
            raise ValueError("a soft limit must not be above the hard limit")

    @property
    def limited(self) -> bool:
        return self.soft_usd is not None or self.hard_usd is not None


@dataclass(frozen=True, slots=True)
class Budget:
    daily: SpendLimit = SpendLimit()
    monthly: SpendLimit = SpendLimit()

    def limit_for(self, period: Period) -> SpendLimit:
        return self.daily if period is Period.DAY else self.monthly

    @property
    def limited(self) -> bool:
        return self.daily.limited or self.monthly.limited


UNLIMITED = Budget()


class ScopeKind(StrEnum):
    TENANT = "tenant"
    FEATURE = "feature"


@dataclass(frozen=True, slots=True)
class BudgetLine:
    """One (scope, window) a call is charged to, with the limit that applies there."""

    kind: ScopeKind
    scope: str  # the tenant, or `tenant/feature`
    window: SpendWindow
    limit: SpendLimit

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.scope}:{self.window.period}:{self.window.label}"

    @property
    def hard_units(self) -> int | None:
        return None if self.limit.hard_usd is None else to_units(self.limit.hard_usd)

    def describe(self) -> str:
        period = "daily" if self.window.period is Period.DAY else "monthly"
        return f"{self.kind} {self.scope} {period}"


@dataclass(frozen=True, slots=True)
class Balance:
    """What a line holds now: spend settled, and worst cases reserved by calls in flight."""

    committed_units: int = 0
    reserved_units: int = 0

    @property
    def total_units(self) -> int:
        return self.committed_units + self.reserved_units


def budget_lines(
    tenant: str, feature: str, tenant_budget: Budget, feature_budget: Budget, *, now: float
) -> tuple[BudgetLine, ...]:
    """Every line a call is charged to: tenant and feature, each per UTC day and month.

    Lines exist even without limits, so that spend is known when a limit is added later.
    """
    lines: list[BudgetLine] = []
    for kind, scope, budget in (
        (ScopeKind.TENANT, tenant, tenant_budget),
        (ScopeKind.FEATURE, f"{tenant}/{feature}", feature_budget),
    ):
        for window in windows_at(now):
            lines.append(BudgetLine(kind, scope, window, budget.limit_for(window.period)))
    return tuple(lines)


def fits_hard_limits(
    lines: Sequence[BudgetLine], balances: Sequence[Balance], amount_units: int
) -> bool:
    """The invariant a store enforces atomically: committed + reserved + amount <= hard."""
    return not _over_hard(lines, balances, amount_units)


class Verdict(StrEnum):
    ALLOW = "allow"
    DOWNGRADE = "downgrade"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class CostQuote:
    """Worst-case cost (all input plus the full output allowance) of the plan, and of economy."""

    planned_usd: Decimal
    economy_usd: Decimal | None = None  # None: no cheaper plan exists (already economy)


@dataclass(frozen=True, slots=True)
class BudgetDecision:
    verdict: Verdict
    amount_units: int = 0  # the worst case to reserve; 0 when rejected
    reason: str | None = None  # downgrade: "budget" | "max-cost"
    detail: str = ""
    retry_after_s: float | None = None  # reject on a hard limit: until its window ends
    max_cost_exceeded: bool = False


def decide_budget(
    lines: Sequence[BudgetLine],
    balances: Sequence[Balance],
    quote: CostQuote,
    *,
    max_cost_usd: Decimal | None,
    now: float,
) -> BudgetDecision:
    """Allow the plan, downgrade it to economy, or reject the call."""
    planned = to_units(quote.planned_usd)
    cheaper = planned if quote.economy_usd is None else to_units(quote.economy_usd)
    cap = None if max_cost_usd is None else to_units(max_cost_usd)
    soft = _soft_reached(lines, balances)
    over_planned = _over_hard(lines, balances, planned)
    if soft is None and not over_planned and (cap is None or planned <= cap):
        return BudgetDecision(Verdict.ALLOW, amount_units=planned)
    over_cheaper = _over_hard(lines, balances, cheaper)
    if not over_cheaper and (cap is None or cheaper <= cap):
        if soft is not None:
            return BudgetDecision(
                Verdict.DOWNGRADE, cheaper, "budget", f"{soft.describe()} soft limit reached"
            )
        if over_planned:
            detail = f"{over_planned[0].describe()} hard limit leaves room for economy only"
            return BudgetDecision(Verdict.DOWNGRADE, cheaper, "budget", detail)
        detail = f"worst case {_usd(planned)} is above the cap {_usd(cap or 0)}"
        return BudgetDecision(Verdict.DOWNGRADE, cheaper, "max-cost", detail)
    if cap is not None and cheaper > cap:
        detail = f"the worst-case cost {_usd(cheaper)} is above {MAX_COST_HEADER} {_usd(cap)}"
        return BudgetDecision(Verdict.REJECT, detail=detail, max_cost_exceeded=True)
    line = over_cheaper[0]
    return BudgetDecision(
        Verdict.REJECT,
        detail=f"{line.describe()} hard limit of ${line.limit.hard_usd} reached",
        retry_after_s=max(seconds_until_end(over.window.period, now) for over in over_cheaper),
    )


def parse_max_cost(header: str | None) -> Decimal | None:
    if header is None or not header.strip():
        return None
    try:
        amount = Decimal(header.strip())
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0:
        raise InvalidRequest(
            f"{MAX_COST_HEADER} must be a non-negative amount in USD", param=MAX_COST_HEADER
        )
    return amount


def _over_hard(
    lines: Sequence[BudgetLine], balances: Sequence[Balance], amount_units: int
) -> list[BudgetLine]:
    return [
        line
        for line, balance in zip(lines, balances, strict=True)
        if (hard := line.hard_units) is not None and balance.total_units + amount_units > hard
    ]


def _soft_reached(lines: Sequence[BudgetLine], balances: Sequence[Balance]) -> BudgetLine | None:
    for line, balance in zip(lines, balances, strict=True):
        soft = line.limit.soft_usd
        if soft is not None and balance.total_units >= to_units(soft):
            return line
    return None


def _usd(units: int) -> str:
    return "$" + format_usd(from_units(units))

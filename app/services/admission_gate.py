"""AdmissionGate: budgets, rate limits and the max-cost cap around one chat call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from app.call_context import CallContext
from app.services.admission import Admission
from app.services.attempts import AttemptLog
from app.services.governance import GovernanceService
from domain.budgets import CostQuote
from domain.features import RequestFeatures
from domain.pricing import worst_case_price
from domain.route_plan import RoutePlan
from domain.routing_policy import RoutingPolicy
from domain.tenants import Tenant


@dataclass(slots=True)
class AdmittedCall:
    """The plan a call may run (possibly downgraded) and what admission reserved for it."""

    plan: RoutePlan
    admission: Admission
    tenant: Tenant


class AdmissionGate:
    def __init__(self, *, governance: GovernanceService, policy: RoutingPolicy) -> None:
        self._governance = governance
        self._policy = policy

    async def admit(
        self,
        ctx: CallContext,
        plan: RoutePlan,
        features: RequestFeatures,
        economy_plan: Callable[[], RoutePlan],
    ) -> AdmittedCall:
        tenant = self._governance.tenant_named(ctx.tenant)
        plan = await self._governance.apply_demotions(plan)
        economy = self._economy(plan, tenant, ctx, economy_plan)
        admission = await self._governance.admit(
            tenant,
            ctx.feature,
            estimated_tokens=features.input_tokens + self._output_allowance(plan),
            worst_case=lambda: CostQuote(
                self._worst_case(plan, features),
                self._worst_case(economy, features) if economy else None,
            ),
            max_cost_header=ctx.max_cost_usd,
        )
        if admission.downgrade_to_economy and economy is not None:
            plan = economy
        return AdmittedCall(plan=plan, admission=admission, tenant=tenant)

    async def settle(self, call: AdmittedCall, log: AttemptLog, *, model: str) -> None:
        """Record the call once, with whatever it spent; release the reservation without a
        record if it spent nothing."""
        if not log.spent_anything:
            await self._governance.release(call.admission)
            return
        await self._governance.settle(
            call.admission,
            cost=log.total_cost,
            usage=log.total_usage,
            route=call.plan.route,
            model=model,
        )

    async def remember(self, ctx: CallContext, call: AdmittedCall, model: str) -> None:
        await self._governance.remember(ctx.request_id, call.tenant, call.plan.route, model)

    def _economy(
        self,
        plan: RoutePlan,
        tenant: Tenant,
        ctx: CallContext,
        economy_plan: Callable[[], RoutePlan],
    ) -> RoutePlan | None:
        """The plan a downgrade would run; None when that is this plan, or when nothing (no
        budget, no max-cost cap) could downgrade the call: it takes a second routing pass."""
        if plan.tier == "economy" or plan.pinned:
            return None
        admission = self._governance.admission
        if not admission.may_downgrade(tenant, ctx.feature, ctx.max_cost_usd):
            return None
        return economy_plan()

    def _output_allowance(self, plan: RoutePlan) -> int:
        limits = [c.output_limit for c in plan.candidates if c.output_limit is not None]
        return max(limits, default=self._policy.default_output_tokens)

    def _worst_case(self, plan: RoutePlan, features: RequestFeatures) -> Decimal:
        """The priciest candidate's price for the estimated input and the full output allowance."""
        return max(
            worst_case_price(
                c.model,
                features.input_tokens,
                c.output_limit or self._policy.default_output_tokens,
            )
            for c in plan.candidates
        )


@dataclass(slots=True)
class CallLedger:
    """One call's attempts, settled with governance exactly once when the call ends."""

    log: AttemptLog
    model: str  # the answering model once known; the planned primary until then
    gate: AdmissionGate | None = None
    call: AdmittedCall | None = None
    deferred: bool = False  # a live stream settles when it ends, not when it starts
    _closed: bool = False

    async def close(self) -> None:
        if self._closed or self.gate is None or self.call is None:
            return
        self._closed = True
        await self.gate.settle(self.call, self.log, model=self.model)

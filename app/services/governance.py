"""GovernanceService: who is calling, may they (rate limits, budgets, max cost), what it cost.

The chat path calls, in order: `authenticate`, `apply_demotions` (on the plan), `admit`
(before the upstream call), `remember` (once the answer's route and model are known), and
`settle` from a `finally` (exactly once; later calls and `release` are no-ops). Stores fail
open: with Redis down, calls are admitted unreserved and unlimited, and each failure is
logged (once per outage) and counted in `store_failures`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from app.services.admission import Admission, AdmissionControl
from app.services.quality_feedback import FeedbackOutcome, QualityEntry, QualityFeedback
from app.services.spend_report import SpendReporter
from app.services.store_guard import FailureHook, StoreGuard
from domain.budgets import CostQuote
from domain.errors import AuthenticationFailed
from domain.governance_ports import QualityStore, RateLimiter, SpendStore
from domain.ledger import SpendRecord
from domain.pricing import Cost, Usage
from domain.quality import QualityRule, ServedRequest, without_demoted
from domain.route_plan import RoutePlan
from domain.spend_report import SpendReport
from domain.tenants import OPEN_TENANT, Tenant, TenantDirectory

__all__ = ["Admission", "GovernanceService"]


class GovernanceService:
    def __init__(
        self,
        *,
        directory: TenantDirectory,
        spend: SpendStore,
        limiter: RateLimiter,
        quality: QualityStore,
        quality_rule: QualityRule,
        wall_clock: Callable[[], float] = time.time,
        on_store_failure: FailureHook | None = None,
        stores_wait: bool = True,
    ) -> None:
        self.directory = directory
        self._guard = StoreGuard(on_failure=on_store_failure)
        self.admission = AdmissionControl(
            spend=spend,
            limiter=limiter,
            guard=self._guard,
            wall_clock=wall_clock,
            stores_wait=stores_wait,
        )
        self.feedback = QualityFeedback(store=quality, rule=quality_rule, guard=self._guard)
        self.reporter = SpendReporter(store=spend, wall_clock=wall_clock)

    @property
    def open_mode(self) -> bool:
        return self.directory.open_mode

    @property
    def store_failures(self) -> int:
        return self._guard.failures

    def authenticate(self, authorization: str | None) -> Tenant:
        """The caller's tenant; AuthenticationFailed (401) for a missing or unknown key."""
        return self.directory.identify(authorization)

    def tenant_named(self, name: str) -> Tenant:
        """The tenant a `CallContext.tenant` names (as `authenticate` returned it)."""
        if self.directory.open_mode:
            return OPEN_TENANT
        tenant = self.directory.find(name)
        if tenant is None:
            raise AuthenticationFailed(f"Unknown tenant {name!r}.")
        return tenant

    async def admit(
        self,
        tenant: Tenant,
        feature: str | None,
        *,
        estimated_tokens: int,
        worst_case: Callable[[], CostQuote],
        max_cost_header: str | None = None,
    ) -> Admission:
        """Rate limits, then budgets and the max-cost cap; raises, or reserves the worst case.

        `estimated_tokens` is input plus the output allowance; `worst_case` prices it on the
        planned model(s) and on the economy plan, and is called only when a budget or a
        max-cost cap applies. A downgraded admission has reserved the economy worst case.
        Raises TenantRateLimited (429), HardLimitReached (429 budget_exceeded),
        MaxCostExceeded or InvalidRequest (400).
        """
        return await self.admission.admit(
            tenant,
            feature,
            estimated_tokens=estimated_tokens,
            worst_case=worst_case,
            max_cost_header=max_cost_header,
        )

    async def settle(
        self, admission: Admission, *, cost: Cost, usage: Usage, route: str, model: str
    ) -> None:
        """Record the call (cost includes its baseline) and release its reservation, once.

        Never raises for a store failure; safe in a `finally`, even under cancellation.
        """
        record = SpendRecord(
            day=admission.day,
            tenant=admission.tenant.name,
            feature=admission.feature,
            route=route,
            model=model,
            usage=usage,
            cost=cost,
        )
        await self.admission.close(admission, record, actual_tokens=usage.total_tokens)

    async def record_own_call(
        self, tenant: Tenant, feature: str, *, cost: Cost, usage: Usage, route: str, model: str
    ) -> None:
        """Record a call the gateway made by itself for `tenant` (an evaluator call): it counts
        toward the tenant's spend and budget lines but is never admitted or rate limited."""
        admission = self.admission.unreserved(tenant, feature)
        await self.settle(admission, cost=cost, usage=usage, route=route, model=model)

    async def release(self, admission: Admission) -> None:
        """Release the reservation without recording a call (nothing reached an upstream)."""
        await self.admission.close(admission, None, actual_tokens=0)

    async def remember(self, request_id: str, tenant: Tenant, route: str, model: str) -> None:
        """Note who served `request_id`, for feedback on it later (fails open)."""
        served = ServedRequest(tenant=tenant.name, route=route, model=model)
        await self.feedback.remember(request_id, served)

    async def record_feedback(
        self,
        caller: Tenant,
        request_id: str,
        *,
        score: float | None = None,
        thumbs: str | None = None,
    ) -> FeedbackOutcome:
        return await self.feedback.record(caller, request_id, score=score, thumbs=thumbs)

    async def quality_view(self) -> list[QualityEntry]:
        return await self.feedback.view()

    async def restore(self, caller: Tenant, route: str, model: str) -> QualityEntry:
        return await self.feedback.restore(caller, route, model)

    async def apply_demotions(self, plan: RoutePlan) -> RoutePlan:
        """The plan without models demoted from its route (never empty, pinned plans kept)."""
        return without_demoted(plan, await self.feedback.demoted_models(plan.route))

    async def spend_report(
        self, caller: Tenant, group_by: str, from_day: str | None, to_day: str | None
    ) -> SpendReport:
        return await self.reporter.report(caller, group_by, from_day, to_day)

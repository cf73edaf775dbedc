"""GET /v1/spend: requests, tokens, cost, baseline cost and savings, grouped."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from app.governance_views import SpendReportView, spend_report_view
from app.services.governance import GovernanceService
from domain.tenants import Tenant


class SpendController(Controller):
    path = "/v1/spend"
    tags = ["spend"]

    @get(summary="Spend per tenant, feature, model, route or day, with savings vs the baseline")
    async def report(
        self,
        governance: NamedDependency[GovernanceService],
        caller: NamedDependency[Tenant],
        group_by: Annotated[
            str, QueryParameter(description="tenant | feature | model | route | day")
        ] = "tenant",
        from_day: Annotated[
            str | None,
            QueryParameter(name="from", description="first UTC day, YYYY-MM-DD (included)"),
        ] = None,
        to_day: Annotated[
            str | None,
            QueryParameter(name="to", description="last UTC day, YYYY-MM-DD (included)"),
        ] = None,
    ) -> SpendReportView:
        report = await governance.spend_report(caller, group_by, from_day, to_day)
        return spend_report_view(report)

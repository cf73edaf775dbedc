"""POST /v1/feedback, GET /v1/feedback/quality, and restoring a demoted model."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from app.governance_views import (
    FeedbackBody,
    FeedbackView,
    QualityEntryView,
    QualityView,
    feedback_view,
    quality_entry_view,
    quality_view,
)
from app.services.governance import GovernanceService
from domain.tenants import Tenant


class FeedbackController(Controller):
    path = "/v1/feedback"
    tags = ["feedback"]

    @post(status_code=200, summary="Rate an answer by request id: score in [0, 1] or thumbs")
    async def rate(
        self,
        data: JSONBody[FeedbackBody],
        governance: NamedDependency[GovernanceService],
        caller: NamedDependency[Tenant],
    ) -> FeedbackView:
        outcome = await governance.record_feedback(
            caller, data.request_id, score=data.score, thumbs=data.thumbs
        )
        return feedback_view(outcome)

    @get("/quality", summary="Rolling quality per route and model, and which are demoted")
    async def quality(
        self, governance: NamedDependency[GovernanceService], caller: NamedDependency[Tenant]
    ) -> QualityView:
        entries = await governance.quality_view()
        return quality_view(governance.feedback.rule, entries)

    @delete(
        "/demotions/{route:str}/{model:path}",
        status_code=200,
        summary="Restore a demoted model on a route (admin tenants); its scores start afresh",
    )
    async def restore(
        self,
        route: FromPath[str],
        model: FromPath[str],
        governance: NamedDependency[GovernanceService],
        caller: NamedDependency[Tenant],
    ) -> QualityEntryView:
        entry = await governance.restore(caller, route, model.lstrip("/"))
        return quality_entry_view(entry)

"""Litestar dependencies for governance: the service from `app.state`, and the calling tenant."""

from __future__ import annotations

from typing import Any, cast

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from app.services.governance import GovernanceService
from domain.tenants import Tenant


def provide_governance(state: State) -> GovernanceService:
    return cast(GovernanceService, state.governance)


def provide_caller(request: Request[Any, Any, Any], state: State) -> Tenant:
    """The tenant behind the request's key; AuthenticationFailed (401) when it has none."""
    return provide_governance(state).authenticate(request.headers.get("authorization"))


GOVERNANCE_DEPENDENCIES = {
    "governance": Provide(provide_governance, sync_to_thread=False),
    "caller": Provide(provide_caller, sync_to_thread=False),
}

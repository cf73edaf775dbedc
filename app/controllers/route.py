"""POST /v1/route: explain the routing decision for a chat request without calling upstream."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import RawBody

from app.openapi import json_body_operation
from app.request_context import call_context
from app.route_explanation import RouteExplanation, explain
from app.schemas import ChatCompletionRequest
from app.services.chat import ChatService
from domain.tenants import Tenant


class RouteController(Controller):
    path = "/v1/route"
    tags = ["routing"]

    @post(
        status_code=200,
        operation_class=json_body_operation(ChatCompletionRequest),
        summary="Dry run: the route plan, request features and reason for a chat request",
    )
    async def dry_run(
        self,
        request: Request[Any, Any, Any],
        body: RawBody,
        chat_service: NamedDependency[ChatService],
        request_timeout_s: NamedDependency[float],
        caller: NamedDependency[Tenant],
    ) -> RouteExplanation:
        plan, features = chat_service.plan(
            body, call_context(request, timeout_s=request_timeout_s, caller=caller)
        )
        return explain(plan, features)

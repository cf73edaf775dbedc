"""POST /v1/route: explain the routing decision for a chat request without calling upstream."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import RawBody

from app.chat_endpoint import ChatEndpoint
from app.openapi import json_body_operation
from app.route_explanation import RouteExplanation, explain
from app.schemas import ChatCompletionRequest


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
        chat: NamedDependency[ChatEndpoint],
    ) -> RouteExplanation:
        plan, features = chat.service.plan(body, chat.context(request.scope))
        return explain(plan, features)

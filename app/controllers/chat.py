"""POST /v1/chat/completions, as the OpenAPI schema documents it.

Served by `app.chat_route.ChatRoute`, which answers this exact path in front of Litestar with the
same service; this handler serves the variants Litestar's router normalises to it (a trailing
slash, a doubled slash), and the route whenever the Litestar app runs on its own.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import RawBody
from litestar.response import Stream

from app.chat_endpoint import ChatEndpoint
from app.openapi import json_body_operation
from app.schemas import ChatCompletionRequest
from app.services.results import ChatStream


class ChatController(Controller):
    path = "/v1/chat/completions"
    tags = ["chat"]

    @post(
        status_code=200,
        operation_class=json_body_operation(ChatCompletionRequest),
        summary="Create a chat completion (OpenAI-compatible, streaming or not)",
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        body: RawBody,
        chat: NamedDependency[ChatEndpoint],
    ) -> Response[bytes] | Stream:
        outcome = await chat.service.handle(body, chat.context(request.scope))
        if isinstance(outcome, ChatStream):
            return Stream(outcome.events, media_type="text/event-stream", headers=outcome.headers)
        return Response(outcome.body, media_type="application/json", headers=outcome.headers)

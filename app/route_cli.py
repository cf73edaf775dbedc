"""`tiergate route "prompt"`: the same dry run as POST /v1/route, from the command line."""

from __future__ import annotations

import time
import uuid

import msgspec

from app.call_context import CallContext
from app.container import Container
from app.dependencies import resolved
from app.route_explanation import RouteExplanation, explain
from app.services.chat import ChatService
from infra.settings import Settings


async def explain_prompt(
    settings: Settings, prompt: str, model: str, tier: str | None
) -> RouteExplanation:
    container = Container(settings=settings)
    await resolved(container.init_resources())
    try:
        service: ChatService = await resolved(container.chat_service())
        body = msgspec.json.encode(
            {"model": model, "messages": [{"role": "user", "content": prompt}]}
        )
        ctx = CallContext(
            request_id=uuid.uuid4().hex,
            tenant="default",
            cache_scope="cli",
            feature="cli",
            deadline=time.monotonic() + 60,
            tier_hint=tier,
        )
        plan, features = service.plan(body, ctx)
        return explain(plan, features)
    finally:
        await resolved(container.shutdown_resources())

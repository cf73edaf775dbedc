"""The bridge between the DI container and Litestar: resolved once at start-up, served per request.

dependency-injector has no Litestar integration (see DESIGN section 9), so the lifespan awaits
the container's providers once and stores the results on `app.state`; handlers receive them
through plain `litestar.di.Provide` callables.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide

from app.chat_endpoint import ChatEndpoint
from app.container import Container
from app.governance_dependencies import GOVERNANCE_DEPENDENCIES
from app.model_listing import ModelList
from app.observability.middleware import STATE_KEY as HTTP_TELEMETRY
from app.readiness import Readiness
from app.upstream_status import UpstreamStatus
from infra.heap import freeze_startup_heap
from infra.metrics import GatewayMetrics


async def resolved(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def container_lifespan(  # type: ignore[no-untyped-def]
    container: Container, *, freeze_heap: bool = False
):
    """Resolve the container on start-up; with `freeze_heap`, then freeze the heap (infra.heap)."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await resolved(container.init_resources())
        try:
            app.state.chat_endpoint = await resolved(container.chat_endpoint())
            app.state.model_list = await resolved(container.model_list())
            app.state.readiness = await resolved(container.readiness())
            app.state.metrics = await resolved(container.metrics())
            app.state.upstream_status = await resolved(container.upstream_status())
            app.state.governance = await resolved(container.governance())
            app.state[HTTP_TELEMETRY] = await resolved(container.http_telemetry())
            if freeze_heap:
                freeze_startup_heap()
            yield
        finally:
            await resolved(container.shutdown_resources())

    return lifespan


def provide_chat_endpoint(state: State) -> ChatEndpoint:
    return cast(ChatEndpoint, state.chat_endpoint)


def provide_model_list(state: State) -> ModelList:
    return cast(ModelList, state.model_list)


def provide_readiness(state: State) -> Readiness:
    return cast(Readiness, state.readiness)


def provide_metrics(state: State) -> GatewayMetrics:
    return cast(GatewayMetrics, state.metrics)


def provide_upstream_status(state: State) -> UpstreamStatus:
    return cast(UpstreamStatus, state.upstream_status)


DEPENDENCIES = {
    **GOVERNANCE_DEPENDENCIES,
    "upstream_status": Provide(provide_upstream_status, sync_to_thread=False),
    "chat": Provide(provide_chat_endpoint, sync_to_thread=False),
    "model_list": Provide(provide_model_list, sync_to_thread=False),
    "readiness": Provide(provide_readiness, sync_to_thread=False),
    "metrics": Provide(provide_metrics, sync_to_thread=False),
}

"""create_app: the Litestar application around a (possibly pre-overridden) container."""

from __future__ import annotations

from litestar import Litestar
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig

from app.chat_route import ChatRoute
from app.container import Container
from app.controllers.admin import AdminController
from app.controllers.chat import ChatController
from app.controllers.feedback import FeedbackController
from app.controllers.health import HealthController
from app.controllers.metrics import MetricsController
from app.controllers.models import ModelsController
from app.controllers.route import RouteController
from app.controllers.spend import SpendController
from app.dependencies import DEPENDENCIES, container_lifespan
from app.error_responses import handle_gateway_error, handle_http_exception, handle_unexpected
from app.observability.middleware import RequestTelemetryMiddleware
from domain.errors import GatewayError
from infra.config_loader import load_settings
from infra.logging_setup import configure_logging
from infra.settings import Settings


def create_app(
    container: Container | None = None,
    *,
    settings: Settings | None = None,
    freeze_heap: bool = False,
) -> ChatRoute:
    """The gateway's ASGI app: the raw chat route in front of the Litestar app for the rest.

    `freeze_heap` is for a server process that runs one app for its lifetime (infra.heap); tests
    that build many apps in one process leave it off.
    """
    if container is None:
        container = Container(settings=settings or Settings())
    max_body_bytes = container.settings().server.max_body_bytes
    litestar_app = _litestar_app(container, max_body_bytes, freeze_heap=freeze_heap)
    return ChatRoute(litestar_app, max_body_bytes=max_body_bytes)


def _litestar_app(container: Container, max_body_bytes: int, *, freeze_heap: bool) -> Litestar:
    return Litestar(
        route_handlers=[
            ChatController,
            RouteController,
            ModelsController,
            HealthController,
            MetricsController,
            SpendController,
            FeedbackController,
            AdminController,
        ],
        dependencies=DEPENDENCIES,
        middleware=[RequestTelemetryMiddleware],
        lifespan=[container_lifespan(container, freeze_heap=freeze_heap)],
        exception_handlers={
            GatewayError: handle_gateway_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        request_max_body_size=max_body_bytes,
        openapi_config=OpenAPIConfig(title="tiergate", version="0.1.0", path="/schema"),
        debug=False,
        logging_config=None,  # keep the JSON handler that configure_logging() installed
    )


def app_from_environment() -> ChatRoute:
    """Entry point for uvicorn workers: settings from TIERGATE_CONFIG and TIERGATE_* variables."""
    configure_logging()
    return create_app(settings=load_settings(), freeze_heap=True)

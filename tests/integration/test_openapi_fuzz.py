"""Schemathesis fuzzes every operation in the app's OpenAPI schema: no 5xx, ever."""

from __future__ import annotations

import hypothesis
import schemathesis
from schemathesis.checks import not_a_server_error

from app.factory import create_app
from infra.config_loader import load_settings

app = create_app(settings=load_settings(env={"TIERGATE_SIM_LATENCY_SCALE": "0"}))
# Schemathesis runs the app's lifespan (and so the container's resources) itself.
schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)


@schema.parametrize()
@hypothesis.settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_no_server_errors(case: schemathesis.Case) -> None:
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])

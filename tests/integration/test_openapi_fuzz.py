"""Schemathesis fuzzes every operation in the app's OpenAPI schema: no 5xx, ever."""

from __future__ import annotations

import os

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error

from app.factory import create_app
from infra.config_loader import load_settings

os.environ.setdefault("TIERGATE_SIM_LATENCY_SCALE", "0")
app = create_app(settings=load_settings(env={"TIERGATE_SIM_LATENCY_SCALE": "0"}))
schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)


@pytest.fixture(scope="module", autouse=True)
def _lifespan() -> object:
    """Run the app's lifespan (container resources) around the fuzzing session."""
    from litestar.testing import TestClient

    with TestClient(app) as client:
        yield client


@schema.parametrize()
@hypothesis.settings(
    max_examples=60, deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_no_server_errors(case: schemathesis.Case) -> None:
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])

"""The container connects the circuit breakers to the breaker-state gauge."""

from __future__ import annotations

import pytest

from app.container import Container
from domain.errors import UpstreamHTTPError
from infra.config_loader import load_settings

MODEL = "Qwen/Qwen3-8B"


async def test_an_opened_circuit_shows_as_2_on_the_gauge() -> None:
    settings = load_settings(env={"TIERGATE_UPSTREAM_MODE": "simulated"})
    container = Container(settings=settings)
    breakers, metrics = container.breakers(), container.metrics()
    gauge = f'tiergate_breaker_state{{model="{MODEL}",upstream="primary"}}'
    for _ in range(settings.resilience.breaker_fail_max):
        assert f"{gauge} 2.0" not in metrics.exposition().decode()
        with pytest.raises(UpstreamHTTPError):
            async with breakers.guard("primary", MODEL):
                raise UpstreamHTTPError("unavailable", status=503, upstream="primary")
    assert f"{gauge} 2.0" in metrics.exposition().decode()

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.simulator import LatencyModel, SimulatorCore
from app.container import Container
from infra.catalog_builder import build_catalog
from tests.support.gateway_server import (
    SIM_KEY_ENV,
    RunningGateway,
    running_gateway,
    settings_for_simulator,
)
from tests.support.simulator_server import RunningSimulator, running_simulator


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningSimulator]:
    catalog = build_catalog(settings_for_simulator("http://unused"))
    core = SimulatorCore(catalog=catalog, latency=LatencyModel.zero(), stream_chunks=20)
    with running_simulator(core, name="sim") as running:
        yield running


@pytest.fixture(scope="module")
def gateway(simulator: RunningSimulator) -> Iterator[RunningGateway]:
    mp = pytest.MonkeyPatch()
    mp.setenv(SIM_KEY_ENV, "sk-upstream-test-key")
    container = Container(settings=settings_for_simulator(simulator.base_url))
    try:
        with running_gateway(container) as running:
            yield running
    finally:
        mp.undo()

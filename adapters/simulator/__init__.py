"""The simulated OpenAI-compatible upstream: one core, served in-process or over HTTP."""

from __future__ import annotations

from adapters.simulator.catalog import default_sim_catalog
from adapters.simulator.core import SimulatorCore
from adapters.simulator.faults import FaultBook, FaultSpec
from adapters.simulator.inprocess import SimulatedChatUpstream
from adapters.simulator.latency import LatencyModel

__all__ = [
    "FaultBook",
    "FaultSpec",
    "LatencyModel",
    "SimulatedChatUpstream",
    "SimulatorCore",
    "default_sim_catalog",
]

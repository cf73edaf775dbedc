"""A fault-injection stack: simulators (one per upstream) and the real gateway, all on sockets."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec

from adapters.simulator import FaultSpec, LatencyModel, SimulatorCore
from app.container import Container
from domain.catalog import Catalog
from infra.catalog_builder import build_catalog
from infra.settings import ResilienceSettings, Settings, TimeoutSettings, UpstreamSettings
from tests.support.fault_client import chat_body
from tests.support.gateway_server import RunningGateway, running_gateway, settings_for_simulator
from tests.support.instrumented_core import InstrumentedCore
from tests.support.simulator_server import RunningSimulator, running_simulator

FAST_RESILIENCE = ResilienceSettings(
    max_attempts_per_model=3,
    base_delay_s=0.01,
    max_delay_s=0.05,
    max_retry_after_s=5.0,
    retry_budget_ratio=10.0,
    retry_budget_min_per_window=10_000,
    breaker_fail_max=5,
    breaker_reset_timeout_s=0.5,
    upstream_cooldown_s=0.5,
)
"""Small delays and a generous retry budget, so that fault tests run in milliseconds."""

CoreFactory = Callable[[Catalog], SimulatorCore]


def instant_core(catalog: Catalog) -> SimulatorCore:
    return InstrumentedCore(catalog=catalog, latency=LatencyModel.zero(), stream_chunks=8)


@dataclass(frozen=True, slots=True)
class Channel:
    """One upstream the gateway is given. Without `base_url` a simulator named `name` is
    started for it; with one, the gateway is pointed at that (already running) server."""

    name: str
    priority: int = 0
    models: tuple[str, ...] = ()
    read_timeout_s: float | None = None
    base_url: str | None = None


@dataclass(slots=True)
class FaultStack:
    gateway: RunningGateway
    sims: dict[str, RunningSimulator]
    _admin: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10.0))

    @property
    def base_url(self) -> str:
        return self.gateway.base_url

    def put_faults(self, sim: str, book: Mapping[str, Any]) -> None:
        """Replace `sim`'s fault book over its admin API (`PUT /_sim/faults`)."""
        response = self._admin.put(self.sims[sim].base_url + "/_sim/faults", json=book)
        response.raise_for_status()

    def fault_model(self, model: str, spec: FaultSpec, *, sim: str = "sim") -> None:
        """Every request for `model` on `sim` gets `spec` (replacing its other faults)."""
        self.put_faults(sim, {"models": {model: msgspec.to_builtins(spec)}})

    def clear_faults(self, sim: str | None = None) -> None:
        for name in [sim] if sim else list(self.sims):
            self._admin.delete(self.sims[name].base_url + "/_sim/faults").raise_for_status()

    def core(self, sim: str) -> InstrumentedCore:
        core = self.sims[sim].core
        assert isinstance(core, InstrumentedCore), "start the stack with an InstrumentedCore"
        return core

    def stats(self, sim: str) -> dict[str, Any]:
        response = self._admin.get(self.sims[sim].base_url + "/_sim/stats")
        response.raise_for_status()
        stats: dict[str, Any] = response.json()
        return stats

    def model_requests(self, sim: str, model: str) -> int:
        count: int = self.stats(sim)["requests_by_model"].get(model, 0)
        return count

    def ask_within(self, millis: int, model: str = "glm-4-plus") -> tuple[httpx.Response, float]:
        """One raw chat call under the caller's deadline `x-tiergate-timeout-ms`, and its time."""
        started = time.monotonic()
        response = self._admin.post(
            self.base_url + "/v1/chat/completions",
            json=chat_body(model),
            headers={"x-tiergate-timeout-ms": str(millis)},
        )
        return response, time.monotonic() - started

    def breaker_states(self) -> dict[tuple[str, str], str]:
        return self.gateway.container.breakers().states()

    def healthy_upstreams(self) -> dict[str, bool]:
        """Upstream health as the gateway's `GET /admin/upstreams` reports it."""
        response = self._admin.get(self.base_url + "/admin/upstreams")
        response.raise_for_status()
        return {name: bool(h["healthy"]) for name, h in response.json()["upstreams"].items()}


def stack_settings(
    channels: Mapping[Channel, str],
    *,
    resilience: ResilienceSettings = FAST_RESILIENCE,
    request_timeout_s: float = 30.0,
) -> Settings:
    """The bundled config with `upstream_mode: http` over the given channels (-> base URL)."""
    base = settings_for_simulator("http://unused")
    upstreams = [_upstream(channel, url) for channel, url in channels.items()]
    server = msgspec.structs.replace(base.server, request_timeout_s=request_timeout_s)
    return msgspec.structs.replace(base, upstreams=upstreams, resilience=resilience, server=server)


@contextmanager
def fault_stack(
    *channels: Channel,
    resilience: ResilienceSettings = FAST_RESILIENCE,
    core: CoreFactory = instant_core,
    request_timeout_s: float = 30.0,
) -> Iterator[FaultStack]:
    """Start a simulator per channel (default: one named "sim") and a gateway over them."""
    channels = channels or (Channel("sim"),)
    catalog = build_catalog(settings_for_simulator("http://unused"))
    with ExitStack() as stack:
        sims: dict[str, RunningSimulator] = {}
        urls: dict[Channel, str] = {}
        for channel in channels:
            if channel.base_url is None:
                sim = stack.enter_context(running_simulator(core(catalog), name=channel.name))
                sims[channel.name] = sim
            urls[channel] = channel.base_url or sims[channel.name].base_url
        settings = stack_settings(urls, resilience=resilience, request_timeout_s=request_timeout_s)
        gateway = stack.enter_context(running_gateway(Container(settings=settings)))
        faults = FaultStack(gateway=gateway, sims=sims)
        stack.callback(faults._admin.close)
        yield faults


def _upstream(channel: Channel, base_url: str) -> UpstreamSettings:
    timeouts = TimeoutSettings()
    if channel.read_timeout_s is not None:
        timeouts = TimeoutSettings(read_s=channel.read_timeout_s)
    return UpstreamSettings(
        name=channel.name,
        base_url=base_url + "/v1",
        priority=channel.priority,
        models=list(channel.models),
        timeouts=timeouts,
    )

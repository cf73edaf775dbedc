"""Choosing and building the upstream adapter from settings (part of the composition root)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from adapters.failover_upstream import FailoverChatUpstream, UpstreamRoute
from adapters.httpx_upstream import (
    HttpClientSpec,
    HttpxChatUpstream,
    UpstreamHttpClient,
    new_http_client,
)
from adapters.simulator.core import SimulatorCore
from adapters.simulator.faults import FaultBook
from adapters.simulator.inprocess import SimulatedChatUpstream
from adapters.simulator.latency import LatencyModel
from domain.catalog import Catalog
from domain.ports import BreakerRegistry
from infra.secrets import upstream_api_key
from infra.settings import Settings, UpstreamSettings


def uses_simulator(settings: Settings) -> bool:
    if settings.upstream_mode != "auto":
        return settings.upstream_mode == "simulated"
    return not any(upstream_api_key(upstream) for upstream in settings.upstreams)


async def open_http_clients(settings: Settings) -> AsyncIterator[dict[str, UpstreamHttpClient]]:
    """One shared AsyncClient per upstream, closed when the container shuts down."""
    clients: dict[str, UpstreamHttpClient] = {}
    if not uses_simulator(settings):
        clients = {up.name: new_http_client(_client_spec(up)) for up in settings.upstreams}
    try:
        yield clients
    finally:
        for client in clients.values():
            await client.aclose()


def build_upstream(
    settings: Settings,
    catalog: Catalog,
    clients: Mapping[str, UpstreamHttpClient],
    breakers: BreakerRegistry,
) -> FailoverChatUpstream:
    """Every upstream (region, key, per-model channel) behind one failover, breakers per model."""
    if uses_simulator(settings):
        routes = [UpstreamRoute(name="simulated", upstream=_simulated(settings, catalog))]
    elif not settings.upstreams:
        raise ValueError("upstream_mode is http but no upstream is configured")
    else:
        routes = [
            UpstreamRoute(
                name=upstream.name,
                upstream=HttpxChatUpstream(
                    name=upstream.name,
                    client=clients[upstream.name],
                    api_key=upstream_api_key(upstream),
                ),
                priority=upstream.priority,
                models=frozenset(_canonical(catalog, upstream.models)),
            )
            for upstream in settings.upstreams
        ]
    return FailoverChatUpstream(
        routes=routes, breakers=breakers, cooldown_s=settings.resilience.upstream_cooldown_s
    )


def _simulated(settings: Settings, catalog: Catalog) -> SimulatedChatUpstream:
    latency = LatencyModel().scaled(settings.simulator.latency_scale)
    core = SimulatorCore(
        catalog=catalog, seed=settings.simulator.seed, latency=latency, faults=FaultBook()
    )
    return SimulatedChatUpstream(core, name="simulated")


def _canonical(catalog: Catalog, names: list[str]) -> list[str]:
    """Channel model lists may use aliases; calls carry catalog ids."""
    return [model.id if (model := catalog.find(name)) else name for name in names]


def _client_spec(upstream: UpstreamSettings) -> HttpClientSpec:
    timeouts = upstream.timeouts
    return HttpClientSpec(
        base_url=upstream.base_url,
        connect_s=timeouts.connect_s,
        read_s=timeouts.read_s,
        write_s=timeouts.write_s,
        pool_s=timeouts.pool_s,
        max_connections=upstream.max_connections,
        max_keepalive_connections=upstream.max_keepalive_connections,
        transport=upstream.transport,
    )

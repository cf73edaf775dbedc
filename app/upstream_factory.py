"""Choosing and building the upstream adapter from settings (part of the composition root)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import httpx

from adapters.httpx_upstream import HttpClientSpec, HttpxChatUpstream, new_http_client
from adapters.simulator.core import SimulatorCore
from adapters.simulator.faults import FaultBook
from adapters.simulator.inprocess import SimulatedChatUpstream
from adapters.simulator.latency import LatencyModel
from domain.catalog import Catalog
from domain.ports import ChatUpstream
from infra.secrets import upstream_api_key
from infra.settings import Settings, UpstreamSettings


def uses_simulator(settings: Settings) -> bool:
    if settings.upstream_mode != "auto":
        return settings.upstream_mode == "simulated"
    return not any(upstream_api_key(upstream) for upstream in settings.upstreams)


async def open_http_clients(settings: Settings) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """One shared AsyncClient per upstream, closed when the container shuts down."""
    clients: dict[str, httpx.AsyncClient] = {}
    if not uses_simulator(settings):
        clients = {up.name: new_http_client(_client_spec(up)) for up in settings.upstreams}
    try:
        yield clients
    finally:
        for client in clients.values():
            await client.aclose()


def build_upstream(
    settings: Settings, catalog: Catalog, clients: Mapping[str, httpx.AsyncClient]
) -> ChatUpstream:
    if uses_simulator(settings):
        latency = LatencyModel(scale=settings.simulator.latency_scale)
        core = SimulatorCore(
            catalog=catalog, seed=settings.simulator.seed, latency=latency, faults=FaultBook()
        )
        return SimulatedChatUpstream(core, name="simulated")
    if not settings.upstreams:
        raise ValueError("upstream_mode is http but no upstream is configured")
    primary = settings.upstreams[0]
    return HttpxChatUpstream(
        name=primary.name, client=clients[primary.name], api_key=upstream_api_key(primary)
    )


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
    )

"""A client that disconnects mid-stream makes the gateway close its upstream stream."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from adapters.simulator import LatencyModel, SimulatorCore
from app.container import Container
from infra.catalog_builder import build_catalog
from tests.support.gateway_server import SIM_KEY_ENV, running_gateway, settings_for_simulator
from tests.support.simulator_server import running_simulator

REQUEST = (
    b'{"model":"glm-4-plus","stream":true,"max_tokens":400,'
    b'"messages":[{"role":"user","content":"Tell me a long story."}]}'
)


def _open_stream_and_hang_up(base_url: str) -> bytes:
    """Raw socket client: read the first bytes of the stream, then close the connection."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(REQUEST), REQUEST)
        )
        received = b""
        while b"data: " not in received:
            received += sock.recv(4096)
    return received


def test_client_disconnect_closes_the_upstream_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIM_KEY_ENV, "sk-test")
    settings = settings_for_simulator("http://unused")
    slow = LatencyModel(ttft_median_s=0.01, ttft_sigma=0.0, tokens_per_s=40.0, tail_rate=0.0)
    core = SimulatorCore(catalog=build_catalog(settings), latency=slow, reply_tokens=(300, 400))
    with running_simulator(core) as sim:
        container = Container(settings=settings_for_simulator(sim.base_url))
        with running_gateway(container) as gateway:
            first = _open_stream_and_hang_up(gateway.base_url)
            assert b"200 OK" in first
            deadline = time.monotonic() + 10
            stats = httpx.get(sim.base_url + "/_sim/stats").json()
            while stats["streams_client_closed"] < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
                stats = httpx.get(sim.base_url + "/_sim/stats").json()
    assert stats["streams_opened"] == 1
    assert stats["streams_client_closed"] == 1
    assert stats["streams_completed"] == 0

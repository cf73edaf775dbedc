"""Run the real gateway (Litestar under uvicorn) on a free loopback port, for tests over sockets."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from app.container import Container
from app.factory import create_app
from infra.config_loader import load_settings
from infra.settings import Settings

SIM_KEY_ENV = "TIERGATE_TEST_SIM_KEY"


@dataclass(frozen=True, slots=True)
class RunningGateway:
    base_url: str
    container: Container

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"


def settings_for_simulator(sim_base_url: str, **overrides: Any) -> Settings:
    """The bundled config, pointed over HTTP at a standalone simulator."""
    env = {
        "TIERGATE_UPSTREAM_BASE_URL": sim_base_url + "/v1",
        "TIERGATE_UPSTREAM_MODE": "http",
    }
    settings = load_settings(env=env)
    upstream = settings.upstreams[0]
    upstreams = [_replace(upstream, api_key_env=SIM_KEY_ENV)]
    return _replace(settings, upstreams=upstreams, **overrides)


def _replace(struct: Any, **changes: Any) -> Any:
    import msgspec

    return msgspec.structs.replace(struct, **changes)


@contextmanager
def running_gateway(container: Container, *, freeze_heap: bool = False) -> Iterator[RunningGateway]:
    app = create_app(container, freeze_heap=freeze_heap)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        loop="asyncio",
        http="app.http_protocol:HttpToolsProtocol",  # the server `tiergate serve` runs
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"gateway-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 15.0
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the gateway did not start")
        time.sleep(0.01)
    try:
        yield RunningGateway(base_url=f"http://127.0.0.1:{port}", container=container)
    finally:
        server.should_exit = True
        thread.join(timeout=15.0)
        sock.close()

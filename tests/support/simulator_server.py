"""Start a real simulator HTTP server on a free 127.0.0.1 port, for integration tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from adapters.simulator import LatencyModel, SimulatorCore, default_sim_catalog
from adapters.simulator.server import SimulatorApp, build_server


@dataclass(frozen=True, slots=True)
class RunningSimulator:
    base_url: str  # e.g. "http://127.0.0.1:54321" (the OpenAI base URL is base_url + "/v1")
    core: SimulatorCore
    app: SimulatorApp  # `app.stats` holds the same counters as GET /_sim/stats

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"


@contextmanager
def running_simulator(
    core: SimulatorCore | None = None, *, name: str = "sim"
) -> Iterator[RunningSimulator]:
    """Serve `core` (default: built-in catalog, seed 0, no latency) in a background thread."""
    if core is None:
        core = SimulatorCore(catalog=default_sim_catalog(), latency=LatencyModel.zero())
    app = SimulatorApp(core, name=name)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = build_server(app, host="127.0.0.1", port=port)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"simulator-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10.0
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the simulator server did not start")
        time.sleep(0.01)
    try:
        yield RunningSimulator(base_url=f"http://127.0.0.1:{port}", core=core, app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=10.0)
        sock.close()


@contextmanager
def simulator_url(core: SimulatorCore | None = None, *, name: str = "sim") -> Iterator[str]:
    """Like `running_simulator`, yielding only the base URL (no `/v1`)."""
    with running_simulator(core, name=name) as running:
        yield running.base_url

"""`tiergate serve` as an OS process: `--workers auto` (the default) runs one process while
governance lives in process memory, and one worker per usable CPU once it is shared in Redis."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from infra.cpus import usable_cpus
from tests.support.processes import free_port, serving_process
from tests.support.redis_server import running_redis

TIERGATE = str(Path(sys.executable).with_name("tiergate"))


def _spawned_workers(pid: int) -> int:
    """Children of `pid` that multiprocessing spawned (uvicorn's workers)."""
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            cmdline = (status.parent / "cmdline").read_bytes()
        except OSError:  # the process ended while we looked
            continue
        if f"\nPPid:\t{pid}\n" in text and b"spawn_main" in cmdline:
            count += 1
    return count


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TIERGATE_REDIS_URL"}
    return {**env, "TIERGATE_UPSTREAM_MODE": "simulated", "OTEL_TRACES_EXPORTER": "none", **extra}


def _serve() -> tuple[list[str], str]:
    """`tiergate serve` on a free port with the default --workers, and its readiness URL."""
    port = free_port()
    return [TIERGATE, "serve", "--port", str(port)], f"http://127.0.0.1:{port}/healthz"


def test_auto_serves_in_one_process_with_in_memory_governance() -> None:
    argv, ready = _serve()
    with serving_process(argv, ready, env=_env()) as gateway:
        assert _spawned_workers(gateway.pid) == 0  # uvicorn serves in the process itself


@pytest.mark.redis
def test_auto_starts_one_worker_per_usable_cpu_with_governance_in_redis() -> None:
    cpus = usable_cpus()
    with running_redis() as redis:
        env = _env(TIERGATE_REDIS_URL=redis.url)
        argv, ready = _serve()
        with serving_process(argv, ready, env=env) as gateway:
            assert _spawned_workers(gateway.pid) == (cpus if cpus > 1 else 0)

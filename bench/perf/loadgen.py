"""wrk in closed loop (one thread, N connections) on the load core; the measured server's CPU."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.perf.procs import Service

LUA = Path(__file__).with_name("post.lua")


@dataclass(frozen=True, slots=True)
class Sample:
    """One wrk run against one server, with that server's CPU and RSS over the run."""

    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_pct: float  # of one core, summed over the server's processes
    cpu_ms_per_request: float
    rss_mib: float


def run_wrk(
    url: str,
    body_files: list[Path],
    *,
    connections: int,
    duration_s: float,
    cpus: str,
    service: Service | None = None,
    delay_ms: float = 0.0,
    every_second: Callable[[], None] | None = None,
) -> Sample:
    argv = [
        "taskset",
        "-c",
        cpus,
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration_s:g}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA),
        url,
    ]
    env = {**os.environ, "BODY_FILE": ",".join(str(p) for p in body_files)}
    if delay_ms > 0:
        env["DELAY_MS"] = f"{delay_ms:.1f}"
    cpu_before = service.cpu_seconds() if service else 0.0
    started = time.monotonic()
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = started + duration_s + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if every_second is not None:
            every_second()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=1.0)
    if proc.poll() is None:
        proc.kill()
    stdout, stderr = proc.communicate(timeout=10)
    wall = time.monotonic() - started
    cpu = (service.cpu_seconds() - cpu_before) if service else 0.0
    line = next((ln for ln in stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {stderr or stdout}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    requests = int(raw["requests"])
    errors = sum(int(raw[k]) for k in raw if k.startswith("err_"))
    return Sample(
        rps=requests / (raw["duration_us"] / 1e6),
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        requests=requests,
        errors=errors,
        cpu_pct=100 * cpu / wall,
        cpu_ms_per_request=1000 * cpu / requests if requests else 0.0,
        rss_mib=service.rss_mib() if service else 0.0,
    )


def wrk_version() -> str:
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0].split(" Copyright")[0].strip()

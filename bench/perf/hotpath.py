"""py-spy over the gateway under load: where its CPU goes, by layer and by function."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.perf.loadgen import run_wrk
from bench.perf.matrix import Target
from bench.perf.procs import Service

# First match wins; patterns are tested against the frame's file path as py-spy prints it.
LAYERS: tuple[tuple[str, str], ...] = (
    (
        "telemetry (OTel spans, Prometheus metrics, request records)",
        r"^(app/observability/|infra/metrics|infra/telemetry|opentelemetry/|prometheus_client/)",
    ),
    ("logging", r"^(logging/|infra/logging_setup)"),
    ("domain rules (features, complexity, routing, pricing)", r"^domain/"),
    # tiergate's uvicorn protocol is the server's response path, not an app service
    ("uvicorn + httptools (server side HTTP)", r"^(uvicorn/|httptools/|app/http_protocol\.py)"),
    ("app services and controllers (chat, executor, DI bridge)", r"^app/"),
    (
        "adapters (failover, breakers, cache, spend, httpx adapter)",
        r"^(adapters/|pybreaker|aiocache/|dependency_injector)",
    ),
    ("Litestar (router, middleware, DI, signature parsing, responses)", r"^litestar/"),
    ("httpx client stack (httpx, httpcore, h11, anyio)", r"^(httpx|httpcore|h11|anyio|sniffio)/"),
    ("msgspec", r"^msgspec/"),
    ("event loop, stdlib, generated dataclass code", r".*"),
)
_OURS = r"^(app/(?!cli\.py)|domain/|adapters/|infra/)"
_FRAME = re.compile(r"^(?P<func>.*) \((?P<path>[^()]*?)(?::\d+)?\)$")


@dataclass(frozen=True, slots=True)
class Profile:
    mode: str
    samples: int
    by_layer: list[tuple[str, float]]  # self time share per layer, descending
    top_inclusive: list[tuple[str, float]]  # our own code (app/domain/adapters/infra), inclusive
    top_self: list[tuple[str, float]]  # any function, self time
    raw_path: Path


def _split(frame: str) -> tuple[str, str]:
    match = _FRAME.match(frame)
    return (match["func"], match["path"]) if match else (frame, "")


def _layer(path: str) -> str:
    return next(name for name, pattern in LAYERS if re.match(pattern, path))


def summarise(raw_path: Path, mode: str) -> Profile:
    layer_self: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    total = 0
    for line in raw_path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_split(f) for f in stack.split(";") if f]
        if not frames:
            continue
        func, path = frames[-1]
        layer_self[_layer(path)] += count
        self_time[f"{func} ({path})"] += count
        ours = {f"{f} ({p})" for f, p in frames if re.match(_OURS, p)}
        for name in ours:
            inclusive[name] += count

    def share(counter: Counter[str], n: int) -> list[tuple[str, float]]:
        return [(k, 100 * v / total) for k, v in counter.most_common(n)] if total else []

    return Profile(
        mode=mode,
        samples=total,
        by_layer=share(layer_self, len(LAYERS)),
        top_inclusive=share(inclusive, 15),
        top_self=share(self_time, 15),
        raw_path=raw_path,
    )


def profile(
    py_spy: Path,
    target: Target,
    service: Service,
    *,
    mode: str,
    seconds: float,
    connections: int,
    load_cpus: str,
    run_dir: Path,
) -> Profile:
    """Sample the gateway (blocking py-spy, 100 Hz) while wrk keeps it saturated."""
    raw_path = run_dir / f"py-spy-{mode}.txt"
    load = threading.Thread(
        target=run_wrk,
        args=(target.url, [target.bodies[mode]]),
        kwargs={"connections": connections, "duration_s": seconds + 3, "cpus": load_cpus},
        daemon=True,
    )
    load.start()
    argv = [
        str(py_spy),
        "record",
        "--pid",
        str(service.pid),
        "--duration",
        f"{int(seconds)}",
        "--rate",
        "100",
        "--format",
        "raw",
        "--output",
        str(raw_path),
    ]
    time.sleep(1.0)  # let wrk open its connections before sampling starts
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    load.join(timeout=seconds + 70)
    if done.returncode != 0 or not raw_path.exists():
        raise RuntimeError(f"py-spy failed: {done.stderr.strip()[-400:]}")
    return summarise(raw_path, mode)

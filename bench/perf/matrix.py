"""Targets, request bodies, and the closed-loop matrix: modes x concurrencies x reps, medians."""

from __future__ import annotations

import json
import statistics
import urllib.request
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from bench.perf.loadgen import Sample, run_wrk
from bench.perf.procs import Service

MODES = ("json", "sse")  # non-streaming, streaming (the simulator sends 20 content chunks)
UPSTREAM_MODEL = "deepseek-ai/DeepSeek-V4-Flash"
MESSAGES = [
    {"role": "system", "content": "You are a concise assistant for a customer-support team."},
    {
        "role": "user",
        "content": "A customer says their invoice shows two charges for the same order. "
        "Draft a short, friendly reply that explains what we will check next.",
    },
]


def write_bodies(run_dir: Path) -> dict[str, dict[str, Path]]:
    """Body files by kind ('upstream', 'gateway', 'cache_hit') and mode."""
    kinds: dict[str, dict[str, object]] = {
        "upstream": {"model": UPSTREAM_MODEL},
        "gateway": {"model": "auto"},  # tiergate routes it; LiteLLM maps it to UPSTREAM_MODEL
        "cache_hit": {"model": "auto", "temperature": 0},  # deterministic, so cacheable
    }
    bodies: dict[str, dict[str, Path]] = {}
    for kind, head in kinds.items():
        bodies[kind] = {}
        for mode in MODES:
            body = {**head, "messages": MESSAGES, **({"stream": True} if mode == "sse" else {})}
            path = run_dir / f"body-{kind}-{mode}.json"
            path.write_bytes(json.dumps(body, separators=(",", ":")).encode())
            bodies[kind][mode] = path
    return bodies


@dataclass(frozen=True, slots=True)
class Target:
    key: str
    label: str
    url: str
    bodies: dict[str, Path]


@dataclass(frozen=True, slots=True)
class Cell:
    """Medians over the repetitions of one (target, mode, concurrency); RSS is the peak."""

    target: str
    mode: str
    connections: int
    reps: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int
    cpu_pct: float
    cpu_ms_per_request: float
    rss_mib: float

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def summarise(target: str, mode: str, connections: int, samples: list[Sample]) -> Cell:
    def median(name: str) -> float:
        return float(statistics.median(getattr(s, name) for s in samples))

    return Cell(
        target=target,
        mode=mode,
        connections=connections,
        reps=len(samples),
        errors=sum(s.errors for s in samples),
        rss_mib=max(s.rss_mib for s in samples),
        **{f.name: median(f.name) for f in fields(Sample) if f.name in _MEDIANS},
    )


_MEDIANS = {"rps", "p50_ms", "p90_ms", "p99_ms", "cpu_pct", "cpu_ms_per_request"}


def preflight(target: Target, mode: str, *, repeat: int = 1) -> dict[str, str]:
    """Send the body `repeat` times; fail unless 200; return the last x-tiergate-* headers."""
    headers: dict[str, str] = {}
    for _ in range(repeat):
        request = urllib.request.Request(
            target.url,
            data=target.bodies[mode].read_bytes(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            headers = {k.lower(): v for k, v in response.headers.items()}
    return {k: v for k, v in headers.items() if k.startswith("x-tiergate-")}


def measure(
    target: Target,
    service: Service | None,
    *,
    modes: tuple[str, ...],
    concurrencies: tuple[int, ...],
    reps: int,
    duration_s: float,
    warmup_s: float,
    load_cpus: str,
) -> list[Cell]:
    """Warm up each mode, then repeat the whole modes x concurrencies sweep `reps` times."""
    for mode in modes:
        run_wrk(
            target.url, [target.bodies[mode]], connections=16, duration_s=warmup_s, cpus=load_cpus
        )
    samples: dict[tuple[str, int], list[Sample]] = {}
    for rep in range(reps):
        for mode in modes:
            for connections in concurrencies:
                sample = run_wrk(
                    target.url,
                    [target.bodies[mode]],
                    connections=connections,
                    duration_s=duration_s,
                    cpus=load_cpus,
                    service=service,
                )
                samples.setdefault((mode, connections), []).append(sample)
                print(
                    f"  {target.key:<14} {mode:<4} c={connections:<3} rep {rep + 1}: "
                    f"{sample.rps:8.1f} rps  p50 {sample.p50_ms:7.2f} ms  "
                    f"p99 {sample.p99_ms:8.2f} ms  cpu {sample.cpu_pct:5.1f}%"
                    + (f"  errors {sample.errors}" if sample.errors else ""),
                    flush=True,
                )
    return [summarise(target.key, m, c, s) for (m, c), s in samples.items()]

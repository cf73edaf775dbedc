"""RSS soak: a mixed load paced to about half of saturation, RSS sampled throughout."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.perf.loadgen import run_wrk
from bench.perf.procs import Service

CONNECTIONS = 16


@dataclass(frozen=True, slots=True)
class SoakResult:
    seconds: float
    saturation_rps: float
    target_rps: float
    achieved_rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_pct: float
    rss_start_mib: float
    rss_end_mib: float
    rss_max_mib: float
    series: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MiB)

    @property
    def growth_pct(self) -> float:
        return 100 * (self.rss_end_mib - self.rss_start_mib) / self.rss_start_mib


def soak(
    service: Service,
    url: str,
    bodies: list[Path],
    *,
    seconds: float,
    load_cpus: str,
    warmup_s: float,
) -> SoakResult:
    """Saturate briefly with the same mix, then pace CONNECTIONS connections to half that rate.

    wrk has no open-loop mode, so pacing is think time: each connection waits a random 0..2x
    `delay` between requests, which at half load keeps the rate within a few % of the target
    (the achieved rate is reported).
    """
    saturation = run_wrk(url, bodies, connections=64, duration_s=5, cpus=load_cpus)
    target = saturation.rps / 2
    unloaded = run_wrk(url, bodies, connections=1, duration_s=3, cpus=load_cpus)
    delay_ms = max(0.0, 1000 * CONNECTIONS / target - unloaded.p50_ms)
    print(
        f"  soak: saturation {saturation.rps:.0f} rps, pacing {CONNECTIONS} connections "
        f"at ~{target:.0f} rps (think time {delay_ms:.1f} ms) for {seconds:.0f}s",
        flush=True,
    )
    run_wrk(
        url, bodies, connections=CONNECTIONS, duration_s=warmup_s, cpus=load_cpus, delay_ms=delay_ms
    )
    started = time.monotonic()
    rss_start = service.rss_mib()
    series: list[tuple[float, float]] = [(0.0, rss_start)]
    last = [started]

    def sample_rss() -> None:
        now = time.monotonic()
        if now - last[0] >= 5.0:
            last[0] = now
            series.append((now - started, service.rss_mib()))

    result = run_wrk(
        url,
        bodies,
        connections=CONNECTIONS,
        duration_s=seconds,
        cpus=load_cpus,
        service=service,
        delay_ms=delay_ms,
        every_second=sample_rss,
    )
    series.append((time.monotonic() - started, result.rss_mib))
    return SoakResult(
        seconds=seconds,
        saturation_rps=saturation.rps,
        target_rps=target,
        achieved_rps=result.rps,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        errors=result.errors,
        cpu_pct=result.cpu_pct,
        rss_start_mib=rss_start,
        rss_end_mib=result.rss_mib,
        rss_max_mib=max(m for _, m in series),
        series=series,
    )

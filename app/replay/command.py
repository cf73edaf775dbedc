"""`tiergate replay`: load, send, add up, print, and write the HTML report."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.replay.driver import ReplayTarget, replay
from app.replay.html_report import render_html
from app.replay.progress import progress_bar
from app.replay.summary import ReplaySummary, summarize
from app.replay.text_report import render_text
from app.replay.workload import WorkloadError, WorkloadRequest, load_workload


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    workload: Path
    target: ReplayTarget
    concurrency: int = 1
    seed: int | None = None
    out: Path | None = Path("replay-report.html")
    progress: bool = True


def run_replay(options: ReplayOptions) -> int:
    """0 when the workload was replayed (errors included), 1 when nothing was answered, 2 when
    the workload cannot be read."""
    try:
        requests = load_workload(options.workload, seed=options.seed)
    except (OSError, WorkloadError) as exc:
        print(f"tiergate replay: {exc}", file=sys.stderr)
        return 2
    summary = asyncio.run(_replay(options, requests))
    print(render_text(summary))
    if options.out is not None:
        options.out.write_text(render_html(summary), encoding="utf-8")
        print(f"report       {options.out}")
    return 0 if summary.answered or not summary.requests else 1


async def _replay(options: ReplayOptions, requests: Sequence[WorkloadRequest]) -> ReplaySummary:
    start = time.perf_counter()
    with progress_bar(len(requests), enabled=options.progress) as advance:
        results = await replay(
            requests, options.target, concurrency=options.concurrency, on_result=advance
        )
    return summarize(
        results,
        workload=options.workload.name,
        seed=options.seed,
        concurrency=options.concurrency,
        wall_s=time.perf_counter() - start,
    )

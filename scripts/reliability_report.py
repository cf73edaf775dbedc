"""Run the fault matrix and the fault-load scenario against fresh simulators + gateways, and
write the reliability report (docs/reliability.md).

Run from the repository root: `.venv/bin/python scripts/reliability_report.py [--output PATH]`.
Each fault case gets its own simulator and gateway on loopback sockets (see
`tests/support/fault_stack.py`); nothing outside this process is touched.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib.metadata
import logging
import platform
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.fault_load import (  # noqa: E402
    LOAD_FAULTS,
    LoadPlan,
    LoadResult,
    percentile,
    run_load,
)
from tests.support.fault_matrix import CASES, CaseResult, run_case  # noqa: E402
from tests.support.fault_stack import FAST_RESILIENCE, fault_stack  # noqa: E402

COMMAND = ".venv/bin/python scripts/reliability_report.py"
PACKAGES = ("tiergate", "litestar", "uvicorn", "httpx", "aiohttp", "msgspec", "pybreaker")


async def run_everything(
    plan: LoadPlan, case_requests: int
) -> tuple[list[CaseResult], LoadResult, Counter[str], int]:
    cases = [await run_case(case, requests=case_requests) for case in CASES]
    with fault_stack() as stack:
        stack.put_faults("sim", LOAD_FAULTS)
        load = await run_load(stack.base_url, plan)
        injected = Counter(stack.core("sim").injected)
        upstream_requests = int(stack.stats("sim")["requests"])
    return cases, load, injected, upstream_requests


def matrix_table(results: list[CaseResult]) -> list[str]:
    lines = [
        "| fault on the first model (glm-4-plus) | calls | client-visible errors | faults"
        " injected | upstream calls | retries | fallbacks | breaker opens | attempts mean / max"
        " | p50 | p99 |",
        "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for result in results:
        outcomes = result.outcomes
        latencies = sorted(o.elapsed_s for o in outcomes)
        attempts = [o.attempts for o in outcomes if o.ok]
        errors = Counter(o.error for o in result.errors)
        shown = ", ".join(f"{n} x `{code}`" for code, n in errors.most_common()) or "0"
        if result.case.by_design:
            shown += f" (by design: {result.case.by_design})"
        spread = f"{sum(attempts) / len(attempts):.2f} / {max(attempts)}" if attempts else "-"
        lines.append(
            f"| {result.case.name} | {len(outcomes)} | {shown} | {result.injected}"
            f" | {result.upstream_requests} | {result.retries} | {result.fallbacks}"
            f" | {result.breaker_opens} | {spread}"
            f" | {_ms(percentile(latencies, 0.5))} | {_ms(percentile(latencies, 0.99))} |"
        )
    return lines


def load_table(load: LoadResult, injected: Counter[str], upstream_requests: int) -> list[str]:
    latencies = load.latencies_s()
    plan = load.plan
    attempts = ", ".join(f"{n}: {count}" for n, count in sorted(load.attempts.items()))
    kinds = ", ".join(f"{kind} {count}" for kind, count in injected.most_common())
    total_injected = sum(injected.values())
    rows = [
        ("calls (streaming)", f"{len(load.answers)} ({len(load.streamed)})"),
        ("concurrency", str(plan.concurrency)),
        ("wall time", f"{load.wall_s:.1f} s ({len(load.answers) / load.wall_s:.0f} calls/s)"),
        ("client-visible errors", str(len(load.errors))),
        ("empty answers delivered", str(len(load.empty_answers))),
        ("calls not answered exactly once", str(len(load.not_answered_once))),
        ("completion ids delivered twice", str(len(load.duplicate_completion_ids))),
        ("upstream calls", str(upstream_requests)),
        (
            "faults injected",
            f"{total_injected} ({total_injected / upstream_requests:.1%} of upstream calls):"
            f" {kinds}",
        ),
        ("answers after a fallback", str(load.fallbacks)),
        ("x-tiergate-attempts (attempts: calls)", attempts),
        (
            "latency p50 / p99 / max",
            f"{_ms(percentile(latencies, 0.5))} / {_ms(percentile(latencies, 0.99))}"
            f" / {_ms(latencies[-1] if latencies else 0.0)}",
        ),
    ]
    return ["| | |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]


def render(
    results: list[CaseResult],
    load: LoadResult,
    injected: Counter[str],
    upstream_requests: int,
    case_requests: int,
) -> str:
    r = FAST_RESILIENCE
    settings = (
        f"`max_attempts_per_model` {r.max_attempts_per_model}, backoff {r.base_delay_s} to "
        f"{r.max_delay_s} s with full jitter, `max_retry_after_s` {r.max_retry_after_s},"
        f" `breaker_fail_max` {r.breaker_fail_max}, `breaker_reset_timeout_s`"
        f" {r.breaker_reset_timeout_s}, `upstream_cooldown_s` {r.upstream_cooldown_s}, retry"
        " budget effectively unlimited"
    )
    lines = [
        "# Reliability report",
        "",
        "Generated by `scripts/reliability_report.py`; do not edit by hand. To regenerate (about a"
        " minute):",
        "",
        "```",
        COMMAND,
        "```",
        "",
        *_provenance(),
        "",
        "Every number below comes from real sockets: a simulated upstream (`adapters/simulator`)"
        " served by uvicorn, the real gateway (its ASGI app under uvicorn, `upstream_mode: http`)"
        " in front of it, and an httpx client, all on loopback and in one process. Simulated"
        " latency is zero, so latencies are the gateway's own work plus retry pauses and fault"
        " timeouts. Resilience settings, shortened so that the run takes seconds: "
        + settings
        + ".",
        "",
        "## What must hold",
        "",
        "- No client-visible error while some candidate model can answer.",
        "- An empty completion (no content, no tool call; reasoning only counts as empty) never"
        " reaches the caller: the gateway moves on to the next candidate.",
        "- Every call is answered exactly once.",
        "- With every candidate down: a clean 503 in OpenAI's error shape, with `Retry-After`,"
        " within the caller's deadline (`x-tiergate-timeout-ms`).",
        "- Breakers open after the configured failures and close after recovery; client"
        " disconnects never trip them.",
        "- A stream fails over freely until its first content byte; after that, a broken"
        " upstream becomes an SSE error event (the SDKs raise), never a silently short answer.",
        "",
        "## The caller's deadline",
        "",
        "`x-tiergate-timeout-ms` sets the deadline of one call, in milliseconds, clamped to"
        " [1 ms, `server.request_timeout_s`] (a value that is not a number is a 400). Every"
        " attempt, retry pause and fallback happens before it; no attempt starts after it. For a"
        " stream it bounds the time to the first content: after that, each read may take as"
        " long as was left when the stream opened.",
        "",
        f"## Fault matrix ({case_requests} calls per case, 10 at a time, fresh gateway per case)",
        "",
        "Calls ask for `glm-4-plus` (plan: glm-4-plus, then Mistral-Small-3.2, then"
        " Llama-3.1-8B). *Retries* are repeats on the same model and *fallbacks* moves to the"
        " next model (the gateway's `tiergate_retries_total` and `tiergate_fallbacks_total`);"
        " *attempts* is the `x-tiergate-attempts` header, which also counts a model skipped"
        " because its breaker was open.",
        "",
        *matrix_table(results),
        "",
        "Reading it:",
        "",
        "- At a 50% failure rate, runs of five consecutive failures happen, so glm's breaker"
        " opens now and then; while it is open calls go straight to the next model (more"
        " fallbacks, fewer retries and upstream calls). That is the breaker doing its job.",
        "- A broken connection or a timeout also puts the upstream in cool-down. With a single"
        " upstream (or every upstream cooling down) it is still tried: benching the only"
        " upstream would turn one reset into an outage of every model.",
        "- An empty or reasoning-only answer is not retried on the same model: the next"
        " candidate answers, and the empty attempt's tokens are billed (`x-tiergate-cost-usd`).",
        "- A region down costs nothing visible: the same model is served by the other region"
        " within the same attempt, and the down region is re-probed after its cool-down.",
        "- The errors marked *by design* are the contract: a stream cut after content reached"
        " the caller is reported as an SSE error event; with everything down or hanging the"
        " caller gets a clean 503 (breakers open, nothing to try) or 504 (deadline reached).",
        "",
        f"## Load: {load.plan.requests} calls at concurrency {load.plan.concurrency},"
        " ~20% of upstream answers failing",
        "",
        "Faults on every model (`tests/support/fault_load.py`): 429 (Retry-After 20 ms), 500,"
        " 503, connection resets, empty and reasoning-only completions, and JSON bodies cut"
        " half-way. The streamed calls (about 40%, on the premium route) meet every fault but"
        " the mid-stream cut after content, which must reach the caller as an error. Each call"
        " carries a unique marker (`user`) to check that it was answered exactly once.",
        "",
        *load_table(load, injected, upstream_requests),
        "",
        "The latencies under load say little about the gateway itself: the load generator, the"
        " gateway and the simulator share one Python process (and its GIL) here. For the"
        " gateway's own overhead see `tiergate_gateway_overhead_seconds` (docs/metrics.md).",
        "",
        "## The tests behind this report",
        "",
        "- `tests/integration/test_faults_retry.py`: 429 + Retry-After, 5xx retried and"
        " fallen back, broken connections, hangs against the caller's deadline, empty and"
        " reasoning-only completions billed, cascade escalation billed, upstream 400 not"
        " retried elsewhere.",
        "- `tests/integration/test_faults_stream.py`: empty streams, cuts before and after"
        " the first content, attempts counted on streams, a burst of client disconnects.",
        "- `tests/integration/test_faults_upstreams.py`: a region down and re-probed, a"
        " dedicated per-model channel, everything down (503 within the deadline), breakers"
        " opening and closing.",
        "- `tests/integration/test_fault_load.py`: the load scenario above, as a test.",
        "",
    ]
    return "\n".join(lines)


def _provenance() -> list[str]:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    versions = ", ".join(f"{name} {_version(name)}" for name in PACKAGES)
    return [
        f"- Generated: {now}, commit `{_commit()}`",
        f"- Python {platform.python_version()} on {platform.system()} {platform.machine()};"
        f" {versions}",
    ]


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} + uncommitted changes" if dirty else head


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "docs" / "reliability.md")
    parser.add_argument("--requests", type=int, default=2000, help="calls in the load scenario")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--case-requests", type=int, default=50, help="calls per fault case")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()
    plan = LoadPlan(requests=args.requests, concurrency=args.concurrency)
    cases, load, injected, upstream = asyncio.run(run_everything(plan, args.case_requests))
    args.output.write_text(render(cases, load, injected, upstream, args.case_requests))
    print(f"wrote {args.output} in {time.monotonic() - started:.0f} s")
    unexpected = [r.case.name for r in cases if r.errors and not r.case.by_design]
    if load.errors or load.empty_answers or load.not_answered_once or unexpected:
        print(f"client-visible errors where none may be: {unexpected or 'load scenario'}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

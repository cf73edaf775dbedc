"""The replay summary as the terminal shows it."""

from __future__ import annotations

from app.replay.summary import ReplaySummary
from domain.pricing import format_usd


def render_text(summary: ReplaySummary) -> str:
    s = summary
    seed = "none" if s.seed is None else str(s.seed)
    lines = [
        f"replayed {s.workload}: {s.requests} requests "
        f"(seed {seed}, concurrency {s.concurrency}) in {s.wall_s:.1f} s",
        f"answered     {s.answered}",
        f"errors       {s.error_count}{_errors(s)}",
        f"cache        hit rate {s.hit_rate:.1%}  ({_counts(s.cache, s.answered)})",
        "model mix",
        *(
            f"  {model:<44} {count:5d}  {count / s.answered:6.1%}"
            for model, count in s.models.most_common()
        ),
        f"latency      p50 {s.latency_p50_ms:.1f} ms, p99 {s.latency_p99_ms:.1f} ms",
        f"cost         ${format_usd(s.total.cost_usd)}",
        f"baseline     ${format_usd(s.total.baseline_usd)}  (every answer priced on the baseline)",
        f"saving       ${format_usd(s.saving_usd)}  ({s.saving_share:.1%})",
        f"fingerprint  {s.fingerprint()}  (all of the above but latency and time)",
    ]
    if s.concurrency > 1:
        lines.append("note         concurrency > 1: cache hits depend on arrival order")
    return "\n".join(lines)


def _errors(summary: ReplaySummary) -> str:
    if not summary.errors:
        return ""
    return "  (" + ", ".join(f"{k}: {v}" for k, v in summary.errors.most_common()) + ")"


def _counts(counts: dict[str, int], total: int) -> str:
    order = ("hit", "semantic-hit", "miss", "bypass")
    keys = [k for k in order if k in counts] + sorted(k for k in counts if k not in order)
    return ", ".join(f"{k} {counts[k]} {counts[k] / total:.1%}" for k in keys) if total else "-"

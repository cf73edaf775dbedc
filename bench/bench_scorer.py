"""Microbenchmark of the per-request prompt heuristics over the shared labeled prompts.

Run from the repository root: `.venv/bin/python bench/bench_scorer.py [--repeat N]`.
Prints median and p90 microseconds per call, over all prompts and over the 400-600 character ones.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from domain.complexity import score_complexity  # noqa: E402
from domain.prompt_text import read_prompt  # noqa: E402
from domain.tasks import guess_task  # noqa: E402
from domain.tokens import estimate_tokens  # noqa: E402

# score_complexity and guess_task each read the prompt (read_prompt); extract_features reads it
# once for both.
FUNCTIONS: dict[str, Callable[[str], object]] = {
    "read_prompt": read_prompt,
    "score_complexity": score_complexity,
    "guess_task": guess_task,
    "estimate_tokens": estimate_tokens,
}


def load_prompts() -> list[str]:
    shared = Path(os.environ.get("TIERGATE_SHARED_DIR", REPO_ROOT.parent / "shared"))
    path = shared / "data" / "routing" / "labeled_prompts.jsonl"
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line)["prompt"] for line in lines if line.strip()]


def micros_per_call(function: Callable[[str], object], prompt: str, repeat: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(repeat):
        function(prompt)
    return (time.perf_counter_ns() - start) / repeat / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="calls per prompt")
    args = parser.parse_args()
    prompts = load_prompts()
    typical = [p for p in prompts if 400 <= len(p) <= 600]
    print(f"{len(prompts)} prompts (median {statistics.median(map(len, prompts)):.0f} chars);")
    print(f"{len(typical)} of them 400-600 chars; {args.repeat} calls each\n")
    print("| function | median us (all) | p90 us (all) | median us (400-600 chars) |")
    print("|---|---|---|---|")
    for name, function in FUNCTIONS.items():
        for prompt in prompts[:50]:  # warm-up: regex caches, allocator
            function(prompt)
        every = sorted(micros_per_call(function, p, args.repeat) for p in prompts)
        around_500 = [micros_per_call(function, p, args.repeat) for p in typical]
        p90 = every[int(0.9 * (len(every) - 1))]
        print(
            f"| {name} | {statistics.median(every):.1f} | {p90:.1f} "
            f"| {statistics.median(around_500):.1f} |"
        )


if __name__ == "__main__":
    main()

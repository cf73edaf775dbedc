"""Median time of one routing decision (features + plan) on typical requests. Prints numbers.

Run: .venv/bin/python bench/bench_routing.py
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from domain.features import PromptShape, extract_features
from domain.router import plan_route
from infra.catalog_builder import build_catalog
from infra.config_loader import load_settings
from infra.policy_builder import build_policy

SHARED = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "routing" / "labeled_prompts.jsonl"
)
TYPICAL_PROMPTS = [
    "Summarize the following meeting notes in three bullet points: " + "notes " * 80,
    "Write a Python function that merges two sorted lists.",
    "Translate 'good morning, how are you?' into French.",
    "Is this review positive or negative? 'The battery died after a day.'",
    "A train leaves at 3pm at 60 mph; another at 4pm at 80 mph. When does the second catch up?",
]


def _labelled_prompts() -> list[str]:
    if not SHARED.is_file():
        return []
    lines = SHARED.read_text(encoding="utf-8").split("\n")
    return [json.loads(line)["prompt"] for line in lines[:400] if line]


def main() -> None:
    print("typical gateway requests (short system prompt + one user turn):")
    _measure(TYPICAL_PROMPTS, repeats=400)
    labelled = _labelled_prompts()
    if labelled:
        print("labelled benchmark prompts (../shared/data/routing/labeled_prompts.jsonl):")
        _measure(labelled, repeats=5)


def _measure(prompts: list[str], *, repeats: int) -> None:
    settings = load_settings(env={})
    catalog = build_catalog(settings)
    policy = build_policy(settings.routing, catalog)
    keywords = policy.keywords
    shapes = [
        PromptShape(
            texts=("You are a helpful assistant.", prompt),
            last_user_text=prompt,
            system_text="You are a helpful assistant.",
        )
        for prompt in prompts
    ]
    timings: list[float] = []
    for _ in range(repeats):
        for shape in shapes:
            start = time.perf_counter()
            features = extract_features(shape, keywords=keywords)
            plan_route("auto", features, catalog, policy)
            timings.append(time.perf_counter() - start)
    timings.sort()
    chars = statistics.median(len(shape.last_user_text) for shape in shapes)
    print(f"prompts: {len(shapes)} (median {chars:.0f} chars), decisions: {len(timings)}")
    print(
        f"routing decision: median {timings[len(timings) // 2] * 1e6:.1f} us, "
        f"p90 {timings[int(len(timings) * 0.9)] * 1e6:.1f} us, "
        f"p99 {timings[int(len(timings) * 0.99)] * 1e6:.1f} us"
    )


if __name__ == "__main__":
    main()

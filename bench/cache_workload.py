"""Replay a workload with repeats and paraphrases through the gateway; report cache hit rates.

Builds a reproducible workload (seeded): 60% new questions, 25% exact repeats, 15% paraphrases
of earlier questions (case, punctuation and filler-word changes, as real traffic repeats), all at
temperature 0, then sends it sequentially to `tiergate serve` on the simulator (latency scale 0.2,
so an upstream call takes tens of ms). Prints hit rates and latency by cache result.

Run: .venv/bin/python bench/cache_workload.py [--requests 600] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter, defaultdict

import httpx
from bench_cache import _serve

TOPICS = [
    "reset my password",
    "change my billing address",
    "export my invoices",
    "cancel my plan",
    "add a team member",
    "enable two-factor authentication",
    "rotate an API key",
    "download usage reports",
    "change the account owner",
    "delete a project",
    "upgrade to the annual plan",
    "connect a Slack workspace",
    "set a spending limit",
    "restore a deleted file",
    "change my email address",
]
FORMS = ["How do I {t}?", "How can I {t}", "how do i {t}", "How do I {t}, please?"]


def workload(requests: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    asked: list[tuple[int, int]] = []
    prompts: list[str] = []
    for _ in range(requests):
        roll = rng.random()
        if asked and roll < 0.25:
            topic, form = rng.choice(asked)  # exact repeat
        elif asked and roll < 0.40:
            topic, _ = rng.choice(asked)  # paraphrase: same topic, another wording
            form = rng.randrange(len(FORMS))
        else:
            topic, form = rng.randrange(len(TOPICS)), 0
            asked.append((topic, form))
            prompts.append(f"{FORMS[form].format(t=TOPICS[topic])} (ticket {rng.randrange(10**6)})")
            continue
        prompts.append(_with_ticket(prompts, topic, form))
    return prompts


def _with_ticket(prompts: list[str], topic: int, form: int) -> str:
    # Reuse the ticket number of the earlier question on this topic so repeats really repeat.
    for earlier in reversed(prompts):
        if TOPICS[topic] in earlier.lower():
            ticket = earlier.rsplit("(ticket ", 1)[1]
            return f"{FORMS[form].format(t=TOPICS[topic])} (ticket {ticket}"
    return FORMS[form].format(t=TOPICS[topic])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    prompts = workload(args.requests, args.seed)
    process, url = _serve(True, latency_scale="0.2")
    results: Counter[str] = Counter()
    latency: dict[str, list[float]] = defaultdict(list)
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            for prompt in prompts:
                body = {
                    "model": "auto",
                    "temperature": 0,
                    "messages": [{"role": "user", "content": prompt}],
                }
                start = time.perf_counter()
                response = client.post("/v1/chat/completions", json=body)
                latency[response.headers["x-tiergate-cache"]].append(time.perf_counter() - start)
                results[response.headers["x-tiergate-cache"]] += 1
    finally:
        process.terminate()
        process.wait(timeout=10)
    total = sum(results.values())
    print(f"requests: {total} (seed {args.seed})")
    for state in ("hit", "semantic-hit", "miss", "bypass"):
        times = sorted(latency.get(state, []))
        if times:
            print(
                f"  {state:<13} {results[state]:5d} ({results[state] / total:6.1%})  "
                f"median {statistics.median(times) * 1000:7.2f} ms"
            )
    hits = results["hit"] + results["semantic-hit"]
    print(
        f"hit rate: {hits / total:.1%} (exact {results['hit'] / total:.1%}, "
        f"semantic {results['semantic-hit'] / total:.1%})"
    )


if __name__ == "__main__":
    main()

"""Generate a replay workload shaped like the seeds' traffic, for `tiergate replay`.

About 60% new requests, 29% exact repeats and 12% paraphrases of earlier ones (so about 40%
could be answered from a cache); a 70/25/5 mix of simple (short questions, classification,
translation, extraction), medium (summaries, code, emails) and hard (multi-step reasoning,
legal and medical analysis) requests; temperature 0 for 90% of them (cacheable), 10% streamed;
tenant and feature tags; `delay_ms` gaps of 5 ms on average. The same seed gives the same file.

Run: .venv/bin/python scripts/make_workload.py --seed 7 [--requests 1000] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from workload_corpus import LEVEL_SHARES, TASKS, Task

REPEAT_SHARE = 0.29
PARAPHRASE_SHARE = 0.12
SAMPLED_SHARE = 0.10  # temperature 0.7: never cached
STREAM_SHARE = 0.10
MEAN_GAP_MS = 5.0
WARM_UP = 10  # new requests before the first repeat, so that repeats spread out
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "workloads" / "sample.jsonl"


@dataclass(frozen=True, slots=True)
class WorkloadLine:
    kind: str  # new | repeat | paraphrase
    task: Task
    prompt: str
    record: dict[str, object]  # what goes into the file

    def to_json(self) -> str:
        return json.dumps(self.record, ensure_ascii=False)


def generate(requests: int, seed: int) -> list[WorkloadLine]:
    rng = random.Random(seed)
    lines: list[WorkloadLine] = []
    originals: list[WorkloadLine] = []
    asked: set[str] = set()
    for _ in range(requests):
        roll = rng.random()
        if len(originals) >= WARM_UP and roll < REPEAT_SHARE:
            line = _again(rng, rng.choice(originals), "repeat", None)
        elif len(originals) >= WARM_UP and roll < REPEAT_SHARE + PARAPHRASE_SHARE:
            original = rng.choice(originals)
            line = _again(rng, original, "paraphrase", _paraphrase(rng, original.prompt))
        else:
            line = _new(rng, asked)
            originals.append(line)
        lines.append(line)
    return lines


def _new(rng: random.Random, asked: set[str]) -> WorkloadLine:
    level = rng.choices(list(LEVEL_SHARES), weights=list(LEVEL_SHARES.values()))[0]
    tasks = [task for task in TASKS if task.level == level]
    task = rng.choices(tasks, weights=[t.weight for t in tasks])[0]
    prompt = task.build(rng)
    while prompt in asked:  # a new request is one not asked before
        prompt = task.build(rng)
    asked.add(prompt)
    record: dict[str, object] = {
        "tenant": rng.choice(task.tenants),
        "feature": task.name,
        "model": "auto",
        "messages": [{"role": "user", "content": prompt}],
        "temperature": 0.7 if rng.random() < SAMPLED_SHARE else 0,
    }
    if task.max_tokens is not None:
        record["max_tokens"] = task.max_tokens
    if rng.random() < STREAM_SHARE:
        record["stream"] = True
        record["stream_options"] = {"include_usage": True}
    return WorkloadLine("new", task, prompt, _paced(rng, record))


def _again(
    rng: random.Random, original: WorkloadLine, kind: str, prompt: str | None
) -> WorkloadLine:
    record = dict(original.record)
    if prompt is not None:
        record["messages"] = [{"role": "user", "content": prompt}]
    return replace(
        original, kind=kind, prompt=prompt or original.prompt, record=_paced(rng, record)
    )


def _paced(rng: random.Random, record: dict[str, object]) -> dict[str, object]:
    record.pop("delay_ms", None)
    gap = round(rng.expovariate(1 / MEAN_GAP_MS))
    return {"delay_ms": gap, **record} if gap else record


def _paraphrase(rng: random.Random, prompt: str) -> str:
    """Another wording with the same content words (case, punctuation, filler words)."""
    bare = prompt.rstrip("?.!")
    lowered = prompt[0].lower() + prompt[1:]
    options = [
        prompt.lower(),
        f"Please, {lowered}",
        f"{bare}, please?" if prompt.endswith("?") else f"{bare}, please.",
        f"So {lowered.rstrip('?.!')}?" if prompt.endswith("?") else f"Please {lowered}",
        f"  {bare}  ",
    ]
    return rng.choice([option for option in options if option != prompt])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    lines = generate(args.requests, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(line.to_json() + "\n" for line in lines), encoding="utf-8")
    print(f"wrote {len(lines)} requests to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

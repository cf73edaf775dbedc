"""The bounded fault-load scenario: many concurrent calls while ~20% of upstream answers fail."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.fault_client import Outcome, chat_body, send

# The premium route's six models serve the streams: their faults never cut a stream after its
# first content, because such a cut must reach the caller as an error (see the fault tests).
STREAM_MODELS = (
    "deepseek-ai/DeepSeek-V4-Pro",
    "openai/gpt-4o",
    "moonshotai/Kimi-K2-Instruct",
    "deepseek-ai/DeepSeek-V4-Flash",
    "Qwen/Qwen3-32B",
    "THUDM/glm-4-plus",
)


def twenty_percent(
    statuses: tuple[float, float, float], reset: float, empty: float, cut: float = 0.0
) -> dict[str, Any]:
    """A FaultSpec (as JSON): 429/500/503 rates, resets, empties (a third reasoning-only), cuts."""
    assert abs(sum(statuses) + reset + empty + cut - 0.2) < 1e-9
    return {
        "errors": dict(zip(("429", "500", "503"), statuses, strict=True)),
        "retry_after_s": 0.02,
        "reset_rate": reset,
        "empty_rate": empty * 2 / 3,
        "reasoning_only_rate": empty / 3,
        "cut_rate": cut,
    }


STREAM_SAFE = twenty_percent((0.05, 0.04, 0.04), reset=0.04, empty=0.03)
# A half-sent JSON body: only non-streaming calls reach the models with this spec.
EVERY_FAULT = twenty_percent((0.04, 0.03, 0.03), reset=0.03, empty=0.04, cut=0.03)
LOAD_FAULTS: dict[str, Any] = {
    "models": {"*": EVERY_FAULT, **dict.fromkeys(STREAM_MODELS, STREAM_SAFE)}
}
"""20% of upstream answers fail, on every model (FaultBook JSON for `PUT /_sim/faults`)."""

STREAM_ROUTES = ("premium",)
CALL_ROUTES = ("standard", "qwen3-coder", "deepseek-r1", "hunyuan-mt", "qwen3-8b")


@dataclass(frozen=True, slots=True)
class LoadPlan:
    requests: int = 2000
    concurrency: int = 50
    stream_share: float = 0.4
    seed: int = 7


@dataclass(slots=True)
class LoadResult:
    """What the callers saw, by marker (each request's unique `user` field)."""

    plan: LoadPlan
    wall_s: float = 0.0
    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)
    streamed: set[str] = field(default_factory=set)

    @property
    def answers(self) -> list[Outcome]:
        return [outcome for seen in self.outcomes.values() for outcome in seen]

    @property
    def errors(self) -> list[Outcome]:
        return [outcome for outcome in self.answers if not outcome.ok]

    @property
    def empty_answers(self) -> list[Outcome]:
        return [o for o in self.answers if o.ok and not o.content.strip()]

    @property
    def not_answered_once(self) -> dict[str, int]:
        """Markers sent but not answered exactly once (should be empty)."""
        expected = {marker(i) for i in range(self.plan.requests)}
        counts = {m: len(self.outcomes.get(m, [])) for m in expected | set(self.outcomes)}
        return {m: n for m, n in counts.items() if n != 1}

    @property
    def duplicate_completion_ids(self) -> list[str]:
        ids = Counter(o.completion_id for o in self.answers if o.completion_id)
        return [cid for cid, n in ids.items() if n > 1]

    @property
    def fallbacks(self) -> int:
        return sum(o.fallback for o in self.answers)

    @property
    def attempts(self) -> Counter[int]:
        return Counter(o.attempts for o in self.answers)

    def latencies_s(self) -> list[float]:
        return sorted(o.elapsed_s for o in self.answers)


def marker(index: int) -> str:
    return f"load-{index:05d}"


async def run_load(base_url: str, plan: LoadPlan = LoadPlan()) -> LoadResult:
    """Send `plan.requests` calls, `plan.concurrency` at a time, and record what came back."""
    rng = random.Random(plan.seed)
    bodies: list[dict[str, Any]] = []
    result = LoadResult(plan=plan)
    for index in range(plan.requests):
        stream = rng.random() < plan.stream_share
        route = rng.choice(STREAM_ROUTES if stream else CALL_ROUTES)
        usage_chunk = stream and rng.random() < 0.5
        bodies.append(
            chat_body(route, stream=stream, usage_chunk=usage_chunk, marker=marker(index))
        )
        if stream:
            result.streamed.add(marker(index))
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    limits = httpx.Limits(
        max_connections=plan.concurrency, max_keepalive_connections=plan.concurrency
    )

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            outcome = await send(client, body)
            result.outcomes.setdefault(body["user"], []).append(outcome)

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(plan.concurrency)))
    result.wall_s = time.perf_counter() - started
    return result


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]

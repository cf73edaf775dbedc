"""The reliability report's fault matrix: one fault kind per case, a fresh stack for each."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.fault_client import GLM, Outcome, chat_body, send
from tests.support.fault_stack import Channel, FaultStack, fault_stack

HALF = 0.5
ONE_REGION = (Channel("sim"),)
TWO_REGIONS = (Channel("eu", priority=0), Channel("us", priority=1))


def on_glm(**spec: Any) -> dict[str, Any]:
    return {"models": {GLM: spec}}


@dataclass(frozen=True, slots=True)
class FaultCase:
    """`faults` go to the first channel's simulator; requests ask for glm-4-plus (pinned:
    glm, then mistral, then llama). `by_design` names the errors the caller must see."""

    name: str
    faults: Mapping[str, Any]
    stream: bool = False
    channels: tuple[Channel, ...] = ONE_REGION
    early_cuts: int = 0  # streams cut after the role chunk, before any content
    headers: Mapping[str, str] = field(default_factory=dict)
    by_design: str = ""


CASES = (
    FaultCase("429 + Retry-After 0.1 s (50%)", on_glm(errors={429: HALF}, retry_after_s=0.1)),
    *(FaultCase(f"{code} (50%)", on_glm(errors={code: HALF})) for code in (500, 502, 503, 504)),
    FaultCase("connection reset (50%)", on_glm(reset_rate=HALF)),
    FaultCase("body cut mid-JSON (50%)", on_glm(cut_rate=HALF)),
    FaultCase(
        "hang, 0.3 s read timeout (50%)",
        on_glm(hang_rate=HALF),
        channels=(Channel("sim", read_timeout_s=0.3),),
    ),
    FaultCase("empty completion (50%)", on_glm(empty_rate=HALF)),
    FaultCase("reasoning-only completion (50%)", on_glm(reasoning_only_rate=HALF)),
    FaultCase("glm down (100%)", on_glm(down=True)),
    FaultCase("stream: 503 (50%)", on_glm(errors={503: HALF}), stream=True),
    FaultCase("stream: empty (50%)", on_glm(empty_rate=HALF), stream=True),
    FaultCase("stream: cut before content (50%)", {}, stream=True, early_cuts=25),
    FaultCase(
        "stream: cut after content (50%)",
        on_glm(cut_rate=HALF),
        stream=True,
        by_design="an SSE error event: content had reached the caller",
    ),
    FaultCase("region eu down, us up", {"upstreams": {"eu": {"down": True}}}, channels=TWO_REGIONS),
    FaultCase(
        "everything down",
        {"models": {"*": {"down": True}}},
        headers={"x-tiergate-timeout-ms": "2000"},
        by_design="503 + Retry-After, OpenAI error shape",
    ),
    FaultCase(
        "everything hangs, caller deadline 0.5 s",
        {"models": {"*": {"hang_rate": 1.0}}},
        headers={"x-tiergate-timeout-ms": "500"},
        by_design="504 at the caller's deadline; 503 at once while every breaker is open",
    ),
)


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: FaultCase
    outcomes: list[Outcome]
    upstream_requests: int
    injected: int
    retries: int
    fallbacks: int
    breaker_opens: int

    @property
    def errors(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if not outcome.ok]


async def run_case(case: FaultCase, *, requests: int = 50, concurrency: int = 10) -> CaseResult:
    with fault_stack(*case.channels) as stack:
        opens = count_breaker_opens(stack)
        target = case.channels[0].name
        if case.faults:
            stack.put_faults(target, dict(case.faults))
        if case.early_cuts:
            stack.core(target).cut_before_content(GLM, case.early_cuts)
        gate = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=30.0) as client:

            async def one() -> Outcome:
                async with gate:
                    body = chat_body("glm-4-plus", stream=case.stream)
                    return await send(client, body, headers=dict(case.headers))

            outcomes = list(await asyncio.gather(*(one() for _ in range(requests))))
            counters = await _counters(client)
        upstream = sum(stack.stats(name)["requests"] for name in stack.sims)
        injected = sum(sum(stack.core(name).injected.values()) for name in stack.sims)
    return CaseResult(
        case=case,
        outcomes=outcomes,
        upstream_requests=upstream,
        injected=injected,
        retries=round(counters.get("tiergate_retries", 0.0)),
        fallbacks=round(counters.get("tiergate_fallbacks", 0.0)),
        breaker_opens=sum(opens.values()),
    )


def count_breaker_opens(stack: FaultStack) -> Counter[str]:
    """Counts every circuit that opens from now on, by model (the gateway's listener still runs)."""
    registry = stack.gateway.container.breakers()
    opens: Counter[str] = Counter()
    listener = registry.on_state_change

    def counting(upstream: str, model: str, state: str) -> None:
        if state == "open":
            opens[model] += 1
        if listener is not None:
            listener(upstream, model, state)

    registry.on_state_change = counting
    return opens


async def _counters(client: httpx.AsyncClient) -> dict[str, float]:
    """Each counter family of the gateway's `/metrics`, summed over its labels."""
    text = (await client.get("/metrics")).text
    return {
        family.name: sum(s.value for s in family.samples if s.name.endswith("_total"))
        for family in text_string_to_metric_families(text)
        if family.type == "counter"
    }

"""Sending a workload to a gateway: pacing, bounded concurrency, one result per request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import httpx

from app.replay.stream_usage import StreamUsage
from app.replay.workload import WorkloadRequest


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """What one request did. Money is exact: parsed from the gateway's fixed-point strings."""

    line: int
    tenant: str
    feature: str
    status: int  # 0: no HTTP answer (connection failed or timed out)
    latency_s: float
    error: str | None = None
    cache: str | None = None
    model: str | None = None
    route: str | None = None
    cost_usd: Decimal = Decimal(0)
    baseline_usd: Decimal = Decimal(0)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class ReplayTarget:
    """Where to send a workload and as whom."""

    gateway: str  # base URL, with or without /v1
    api_key: str | None = None
    tenant_keys: Mapping[str, str] | None = None  # tenant name -> its API key
    timeout_s: float = 120.0

    @property
    def endpoint(self) -> str:
        base = self.gateway.rstrip("/")
        base = base.removesuffix("/v1")
        return base + "/v1/chat/completions"

    def headers_for(self, request: WorkloadRequest) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        keys = self.tenant_keys or {}
        key = request.api_key or keys.get(request.tenant or "") or self.api_key
        if key:
            headers["authorization"] = f"Bearer {key}"
        if request.feature:
            headers["x-tiergate-feature"] = request.feature
        return headers


async def replay(
    requests: Sequence[WorkloadRequest],
    target: ReplayTarget,
    *,
    concurrency: int = 1,
    on_result: Callable[[ReplayResult], None] | None = None,
) -> list[ReplayResult]:
    """Send `requests` in order, each after its `delay_ms`, at most `concurrency` at a time.

    Results come back in workload order. With `concurrency` 1 every request starts after the
    previous one ended, so cache hits (and therefore costs) are reproducible.
    """
    slots = asyncio.Semaphore(concurrency)
    results: list[ReplayResult | None] = [None] * len(requests)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=target.timeout_s, limits=limits) as client:

        async def run(index: int, request: WorkloadRequest) -> None:
            try:
                result = await _send(client, target, request)
            finally:
                slots.release()
            results[index] = result
            if on_result is not None:
                on_result(result)

        async with asyncio.TaskGroup() as group:
            for index, request in enumerate(requests):
                if request.delay_ms:
                    await asyncio.sleep(request.delay_ms / 1000)
                await slots.acquire()
                group.create_task(run(index, request))
    return [result for result in results if result is not None]


async def _send(
    client: httpx.AsyncClient, target: ReplayTarget, request: WorkloadRequest
) -> ReplayResult:
    start = time.perf_counter()
    usage = StreamUsage()
    try:
        async with client.stream(
            "POST", target.endpoint, content=request.body, headers=target.headers_for(request)
        ) as response:
            if response.status_code != 200:
                await response.aread()
                return _result(request, start, response.status_code, _error_code(response))
            if request.stream:
                async for line in response.aiter_lines():
                    usage.add_line(line)
            else:
                await response.aread()
    except httpx.HTTPError as exc:
        return _result(request, start, 0, type(exc).__name__)
    headers = response.headers
    cost, baseline = _header_costs(headers)
    if request.stream and usage.cost is not None:
        cost, baseline = usage.cost, usage.baseline_cost or Decimal(0)
    return _result(
        request,
        start,
        200,
        usage.error,
        cache=headers.get("x-tiergate-cache"),
        model=headers.get("x-tiergate-model"),
        route=headers.get("x-tiergate-route"),
        cost_usd=cost,
        baseline_usd=baseline,
    )


def _result(
    request: WorkloadRequest,
    start: float,
    status: int,
    error: str | None,
    *,
    cache: str | None = None,
    model: str | None = None,
    route: str | None = None,
    cost_usd: Decimal = Decimal(0),
    baseline_usd: Decimal = Decimal(0),
) -> ReplayResult:
    return ReplayResult(
        line=request.line,
        tenant=request.tenant or "-",
        feature=request.feature or "-",
        status=status,
        latency_s=time.perf_counter() - start,
        error=error,
        cache=cache,
        model=model,
        route=route,
        cost_usd=cost_usd,
        baseline_usd=baseline_usd,
    )


def _header_costs(headers: httpx.Headers) -> tuple[Decimal, Decimal]:
    return (
        Decimal(headers.get("x-tiergate-cost-usd", "0")),
        Decimal(headers.get("x-tiergate-baseline-cost-usd", "0")),
    )


def _error_code(response: httpx.Response) -> str:
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = None
    return f"{response.status_code} {code}" if code else str(response.status_code)

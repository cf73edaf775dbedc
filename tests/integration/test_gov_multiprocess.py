"""A budget shared by two `tiergate serve` processes through one Redis, under parallel traffic.

Everything is a separate OS process on loopback: redis-server, the simulated upstream
(`tiergate sim`) and two gateways started from one config file. A tenant with a small hard daily
budget sends many concurrent calls to both gateways: every admission reserves the call's worst
case atomically in Redis, so what the tenant is charged never passes the limit, the calls past it
get 429 `budget_exceeded`, and the spend report equals the sum of the cost headers.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.support.processes import free_port, serving_process
from tests.support.redis_server import running_redis

pytestmark = [pytest.mark.redis, pytest.mark.slow]

TIERGATE = str(Path(sys.executable).with_name("tiergate"))
KEYS = {"capped": "sk-capped", "finance": "sk-finance"}
HARD_USD = Decimal("0.0006")
CALLS_PER_GATEWAY = 40
CONCURRENCY_PER_GATEWAY = 12
REQUEST = {
    "model": "glm-4-plus",
    "temperature": 1.0,  # never cached: every call is priced
    "max_tokens": 40,
    "messages": [{"role": "user", "content": "Write two sentences about tide pools."}],
}


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _config(sim_port: int) -> str:
    return f"""
upstreams:
  - name: sim
    base_url: http://127.0.0.1:{sim_port}/v1
    api_key_env: TIERGATE_TEST_SIM_KEY
governance:
  store: redis
  tenants:
    - name: capped
      key_sha256: [{_digest(KEYS["capped"])}]
      budget: {{daily: {{hard_usd: {HARD_USD}}}}}
    - name: finance
      admin: true
      key_sha256: [{_digest(KEYS["finance"])}]
"""


@pytest.fixture(scope="module")
def gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    sim_port = free_port()
    config = tmp_path_factory.mktemp("multiprocess") / "tiergate.yaml"
    config.write_text(_config(sim_port))
    with running_redis() as redis, ExitStack() as stack:
        env = {
            **os.environ,
            "TIERGATE_REDIS_URL": redis.url,
            "TIERGATE_TEST_SIM_KEY": "sk-upstream",
            "OTEL_TRACES_EXPORTER": "none",
        }
        sim = [TIERGATE, "sim", "--port", str(sim_port), "--latency-scale", "0.05"]
        stack.enter_context(serving_process(sim, f"http://127.0.0.1:{sim_port}/v1/models", env=env))
        urls = []
        for _ in range(2):
            port = free_port()
            serve = [
                TIERGATE,
                "serve",
                "--config",
                str(config),
                "--port",
                str(port),
                "--workers",
                "1",
            ]
            stack.enter_context(serving_process(serve, f"http://127.0.0.1:{port}/healthz", env=env))
            urls.append(f"http://127.0.0.1:{port}")
        yield urls


async def _hammer(url: str) -> list[httpx.Response]:
    headers = {"authorization": f"Bearer {KEYS['capped']}"}
    limit = asyncio.Semaphore(CONCURRENCY_PER_GATEWAY)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:

        async def call() -> httpx.Response:
            async with limit:
                return await client.post("/v1/chat/completions", json=REQUEST)

        return await asyncio.gather(*(call() for _ in range(CALLS_PER_GATEWAY)))


async def _both(urls: list[str]) -> list[httpx.Response]:
    first, second = await asyncio.gather(*(_hammer(url) for url in urls))
    return [*first, *second]


def test_a_hard_budget_holds_across_two_gateway_processes(gateways: list[str]) -> None:
    replies = asyncio.run(_both(gateways))
    answered = [r for r in replies if r.status_code == 200]
    refused = [r for r in replies if r.status_code == 429]
    assert len(answered) + len(refused) == len(replies)  # nothing else: no 5xx, none lost
    assert {r.json()["error"]["code"] for r in refused} == {"budget_exceeded"}
    assert answered and refused  # the limit was reached, under load, on both gateways
    assert {r.url.port for r in answered} == {httpx.URL(url).port for url in gateways}
    charged = sum(Decimal(r.headers["x-tiergate-cost-usd"]) for r in answered)
    assert charged <= HARD_USD  # every admission reserved its worst case: no overspend at all
    report = httpx.get(
        gateways[0] + "/v1/spend",
        params={"group_by": "tenant"},
        headers={"authorization": f"Bearer {KEYS['finance']}"},
    ).json()
    groups = {row["group"]: row for row in report["data"]}
    assert groups["capped"]["requests"] == len(answered)
    assert Decimal(groups["capped"]["cost_usd"]) == charged

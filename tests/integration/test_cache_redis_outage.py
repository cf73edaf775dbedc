"""With the cache in Redis: shared across gateways, and a Redis outage fails no request."""

from __future__ import annotations

import uuid

import httpx
import msgspec
import pytest

from adapters.simulator import LatencyModel, SimulatorCore
from app.container import Container
from infra.catalog_builder import build_catalog
from tests.support.gateway_server import SIM_KEY_ENV, running_gateway, settings_for_simulator
from tests.support.redis_server import running_redis
from tests.support.simulator_server import running_simulator

pytestmark = pytest.mark.redis


def _ask(base_url: str, content: str) -> httpx.Response:
    return httpx.post(
        base_url + "/v1/chat/completions",
        headers={"authorization": "Bearer tenant"},
        json={
            "model": "auto",
            "temperature": 0,
            "messages": [{"role": "user", "content": content}],
        },
        timeout=10,
    )


def test_redis_cache_is_shared_and_an_outage_fails_no_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SIM_KEY_ENV, "sk-test")
    catalog = build_catalog(settings_for_simulator("http://unused"))
    core = SimulatorCore(catalog=catalog, latency=LatencyModel.zero())
    with running_redis() as redis, running_simulator(core) as sim:
        base = settings_for_simulator(sim.base_url)
        # Exact cache only: the shared semantic index has its own Redis tests.
        cache = msgspec.structs.replace(
            base.cache, backend="redis", redis_url=redis.url, semantic=False
        )
        settings = msgspec.structs.replace(base, cache=cache)
        with (
            running_gateway(Container(settings=settings)) as pod_a,
            running_gateway(Container(settings=settings)) as pod_b,
        ):
            prompt = f"Name a river in Africa ({uuid.uuid4().hex[:8]})"
            assert _ask(pod_a.base_url, prompt).headers["x-tiergate-cache"] == "miss"
            assert _ask(pod_b.base_url, prompt).headers["x-tiergate-cache"] == "hit"

            redis.kill()
            during = [_ask(pod_a.base_url, f"{prompt} {i}") for i in range(20)]
            assert [r.status_code for r in during] == [200] * 20
            assert {r.headers["x-tiergate-cache"] for r in during} == {"miss"}
            metrics = httpx.get(pod_a.base_url + "/metrics").text
            assert 'tiergate_cache_lookups_total{result="error"}' in metrics

            redis.start()
            assert _resumes(pod_a.base_url, pod_b.base_url, prompt)


def _resumes(writer: str, reader: str, prompt: str, tries: int = 5) -> bool:
    """Caching comes back by itself once Redis is up (a stale connection may fail once)."""
    for attempt in range(tries):
        again = f"{prompt} after {attempt}"
        _ask(writer, again)
        if _ask(reader, again).headers["x-tiergate-cache"] == "hit":
            return True
    return False

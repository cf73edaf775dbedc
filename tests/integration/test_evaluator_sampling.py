"""Evaluator sampling in the running gateway: the caller never waits, the score arrives later."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import msgspec
import pytest
from dependency_injector import providers

from app.container import Container
from domain.errors import UpstreamConnectionError
from domain.judging import JUDGE_INSTRUCTIONS
from domain.ports import UpstreamCall, UpstreamReply
from infra.config_loader import load_settings
from tests.fakes import FakeStream, FakeUpstream, completion_body, stream_payloads
from tests.support.gateway_server import RunningGateway, running_gateway

JUDGE_MARK = JUDGE_INSTRUCTIONS[:40].encode()
ASK = {
    "model": "auto",
    "temperature": 1.0,  # never cached: every request reaches the upstream
    "messages": [{"role": "user", "content": "Name two rivers in France."}],
}


class JudgedUpstream(FakeUpstream):
    """Answers callers at once; holds evaluator calls until `release` is set, then scores 9."""

    def __init__(self, *, fail: bool = False) -> None:
        super().__init__("fake")
        self.release = threading.Event()
        self.judged = 0
        self.judged_bodies: list[bytes] = []
        self._fail = fail

    async def complete(self, call: UpstreamCall) -> UpstreamReply:
        if JUDGE_MARK not in call.body:
            return await super().complete(call)
        self.judged += 1
        self.judged_bodies.append(call.body)
        await asyncio.to_thread(self.release.wait)
        if self._fail:
            raise UpstreamConnectionError("the evaluator is down", upstream="fake")
        return UpstreamReply(body=completion_body(call.model, content="9"), upstream="fake")


@contextmanager
def gateway_with(upstream: FakeUpstream, rate: float) -> Iterator[RunningGateway]:
    settings = load_settings(env={"TIERGATE_UPSTREAM_MODE": "simulated"})
    quality = msgspec.structs.replace(settings.governance.quality, evaluator_sample_rate=rate)
    governance = msgspec.structs.replace(settings.governance, quality=quality)
    container = Container(settings=msgspec.structs.replace(settings, governance=governance))
    container.upstream.override(providers.Object(upstream))
    with running_gateway(container) as gateway:
        yield gateway


def _quality(http: httpx.Client) -> list[dict[str, object]]:
    data: list[dict[str, object]] = http.get("/v1/feedback/quality").json()["data"]
    return data


def _wait_for(condition: object, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_sampled_answer_is_not_delayed_and_its_score_arrives_later() -> None:
    upstream = JudgedUpstream()
    with (
        gateway_with(upstream, rate=1.0) as gateway,
        httpx.Client(base_url=gateway.base_url, timeout=10) as http,
    ):
        started = time.monotonic()
        reply = http.post("/v1/chat/completions", json=ASK)
        assert reply.status_code == 200
        assert time.monotonic() - started < 2.0  # the evaluator is still held
        _wait_for(lambda: upstream.judged == 1)
        assert _quality(http) == []
        upstream.release.set()
        _wait_for(lambda: _quality(http) != [])
        [entry] = _quality(http)
        assert entry["route"] == reply.headers["x-tiergate-route"]
        assert entry["model"] == reply.headers["x-tiergate-model"]
        assert entry["samples"] == 1
        assert entry["quality"] == pytest.approx(8 / 9, abs=1e-4)
        spend = http.get("/v1/spend", params={"group_by": "feature"}).json()
        assert {group["group"] for group in spend["data"]} == {"untagged", "evaluator"}


def test_rate_zero_scores_nothing() -> None:
    upstream = JudgedUpstream()
    with (
        gateway_with(upstream, rate=0.0) as gateway,
        httpx.Client(base_url=gateway.base_url, timeout=10) as http,
    ):
        for _ in range(3):
            assert http.post("/v1/chat/completions", json=ASK).status_code == 200
        time.sleep(0.1)
        assert upstream.judged == 0
        assert _quality(http) == []


def test_a_failing_evaluator_does_not_touch_the_caller() -> None:
    upstream = JudgedUpstream(fail=True)
    upstream.release.set()
    with (
        gateway_with(upstream, rate=1.0) as gateway,
        httpx.Client(base_url=gateway.base_url, timeout=10) as http,
    ):
        for _ in range(3):
            reply = http.post("/v1/chat/completions", json=ASK)
            assert reply.status_code == 200
            assert reply.json()["choices"][0]["message"]["content"] == "ok"
        _wait_for(lambda: upstream.judged == 3)
        time.sleep(0.1)
        assert _quality(http) == []


def test_a_streamed_answer_is_scored_once_it_completed() -> None:
    upstream = JudgedUpstream()
    upstream.then(FakeStream(stream_payloads("m", content="The Seine and the Loire.")))
    upstream.release.set()
    with (
        gateway_with(upstream, rate=1.0) as gateway,
        httpx.Client(base_url=gateway.base_url, timeout=10) as http,
    ):
        with http.stream("POST", "/v1/chat/completions", json={**ASK, "stream": True}) as reply:
            assert reply.status_code == 200
            body = reply.read()
        assert body.endswith(b"data: [DONE]\n\n")
        _wait_for(lambda: _quality(http) != [])
        [entry] = _quality(http)
        assert entry["model"] == reply.headers["x-tiergate-model"]
        assert entry["samples"] == 1
        [judged] = upstream.judged_bodies
        assert b"The Seine and the Loire." in judged  # the streamed answer, put together

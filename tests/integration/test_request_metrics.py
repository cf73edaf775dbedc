"""The HTTP middleware's metrics, over real sockets: upstream time is not gateway overhead."""

from __future__ import annotations

import logging
import socket
import time

import httpx
import pytest
from dependency_injector import providers
from prometheus_client.parser import text_string_to_metric_families

from app.container import Container
from infra.config_loader import load_settings
from tests.fakes import FakeUpstream
from tests.support.gateway_server import running_gateway

MODEL = "Qwen/Qwen3-8B"
UPSTREAM_S = 0.25


def test_duration_overhead_first_chunk_and_outcomes() -> None:
    container = Container(settings=load_settings(env={"TIERGATE_UPSTREAM_MODE": "simulated"}))
    container.upstream.override(providers.Object(FakeUpstream("fake", latency_s=UPSTREAM_S)))
    messages = [{"role": "user", "content": "hi"}]
    with running_gateway(container) as gateway, httpx.Client(base_url=gateway.base_url) as http:
        for stream in (False, True):
            reply = http.post(
                "/v1/chat/completions",
                json={"model": MODEL, "messages": messages, "stream": stream},
            )
            assert reply.status_code == 200
        assert http.post("/v1/chat/completions", content=b"{not json").status_code == 400
        assert http.get("/healthz").status_code == 200
        http.get("/metrics")
        text = http.get("/metrics").text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }

    def value(name: str, **labels: str) -> float:
        return samples.get((f"tiergate_{name}", tuple(sorted(labels.items()))), 0.0)

    plain, streamed = (
        {"endpoint": "chat", "stream": "false"},
        {"endpoint": "chat", "stream": "true"},
    )
    assert value("request_duration_seconds_count", **plain) == 2  # the answer and the 400
    assert value("request_duration_seconds_count", **streamed) == 1
    assert value("request_duration_seconds_bucket", **plain, le="0.25") == 1  # only the 400
    assert value("request_duration_seconds_sum", **streamed) >= UPSTREAM_S
    # All three requests took the gateway itself well under 100 ms.
    assert value("gateway_overhead_seconds_bucket", endpoint="chat", le="0.1") == 3
    assert value("gateway_overhead_seconds_count", endpoint="chat") == 3
    assert value("time_to_first_chunk_seconds_count", route="pinned") == 1
    assert value("time_to_first_chunk_seconds_sum", route="pinned") >= UPSTREAM_S
    answered = {"endpoint": "chat", "route": "pinned", "model": MODEL, "status": "200"}
    assert value("requests_total", **answered) == 2
    rejected = {"endpoint": "chat", "route": "none", "model": "none", "status": "400"}
    assert value("requests_total", **rejected) == 1
    endpoints = {dict(labels).get("endpoint") for name, labels in samples if "requests" in name}
    assert endpoints <= {"chat", None}  # probes and scrapes are not traffic
    assert value("requests_in_flight") == 0
    assert value("tokens_total", direction="input", model=MODEL, route="pinned") == 10
    attempts = {"upstream": "other", "model": MODEL, "outcome": "ok"}  # "fake" is not configured
    assert value("upstream_attempts_total", **attempts) == 2


def test_a_client_hanging_up_mid_body_is_a_499_not_a_server_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    container = Container(settings=load_settings(env={"TIERGATE_UPSTREAM_MODE": "simulated"}))
    with running_gateway(container) as gateway:
        url = httpx.URL(gateway.base_url)
        with socket.create_connection((url.host, url.port)) as raw:
            raw.sendall(
                b"POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\n"
                b"content-type: application/json\r\ncontent-length: 1000\r\n\r\n"
                b'{"model": "auto", "messa'
            )
        with httpx.Client(base_url=gateway.base_url) as http:
            deadline = time.monotonic() + 5
            while 'status="499"' not in (text := http.get("/metrics").text):
                assert time.monotonic() < deadline, "the hang-up was never counted"
                time.sleep(0.05)
    assert 'status="500"' not in text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]

"""The raw ASGI chat route in front of Litestar, over real sockets: how it reads bodies, maps
failures nobody planned for, and leaves every other route to Litestar."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from dependency_injector import providers

from app.container import Container
from infra.config_loader import load_settings
from tests.fakes import FakeStream, FakeUpstream, stream_payloads
from tests.support.gateway_server import RunningGateway, running_gateway

MODEL = "Qwen/Qwen3-8B"
CHAT = "/v1/chat/completions"


def _body(*, stream: bool = False, content: str = "hi") -> bytes:
    messages = [{"role": "user", "content": content}]
    return json.dumps({"model": MODEL, "messages": messages, "stream": stream}).encode()


def _in_pieces(body: bytes, size: int) -> Iterator[bytes]:
    """A request body sent chunked (no content-length), `size` bytes at a time."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.fixture
def upstream() -> FakeUpstream:
    return FakeUpstream("fake")


@pytest.fixture
def gateway(upstream: FakeUpstream) -> Iterator[RunningGateway]:
    container = Container(settings=load_settings(env={"TIERGATE_UPSTREAM_MODE": "simulated"}))
    container.upstream.override(providers.Object(upstream))
    with running_gateway(container) as running:
        yield running


def test_a_chunked_body_is_read_whole(gateway: RunningGateway, upstream: FakeUpstream) -> None:
    body = _body(content="a question sent in many small pieces " * 20)
    reply = httpx.post(gateway.base_url + CHAT, content=_in_pieces(body, 64))
    assert reply.status_code == 200
    assert json.loads(upstream.calls[0].call.body)["messages"] == json.loads(body)["messages"]


def test_a_chunked_body_over_the_limit_is_a_413(
    gateway: RunningGateway, upstream: FakeUpstream
) -> None:
    limit = gateway.container.settings().server.max_body_bytes
    body = _body(content="x" * (limit + 10))
    reply = httpx.post(gateway.base_url + CHAT, content=_in_pieces(body, 64 * 1024))
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == "request_too_large"
    assert not upstream.calls


def test_an_unexpected_failure_is_an_openai_shaped_500_without_a_trace(
    gateway: RunningGateway, upstream: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    upstream.then(RuntimeError("secret internals"))
    reply = httpx.post(gateway.base_url + CHAT, content=_body())
    assert reply.status_code == 500
    assert reply.json()["error"] == {
        "message": "The gateway hit an internal error.",
        "type": "server_error",
        "param": None,
        "code": "internal_error",
    }
    assert "secret internals" not in reply.text
    assert any(record.exc_info for record in caplog.records if record.levelno >= logging.ERROR)


def test_a_stream_failing_unexpectedly_ends_and_is_logged(
    gateway: RunningGateway, upstream: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    first_events = stream_payloads(MODEL)[:2]  # role, content: no usage chunk, none withheld
    upstream.then(FakeStream(first_events, fail_with=RuntimeError("secret internals")))
    with httpx.Client(base_url=gateway.base_url) as http:
        reply = http.post(CHAT, content=_body(stream=True))
        assert reply.status_code == 200
        assert reply.text.count("data: ") == len(first_events)
        assert "secret internals" not in reply.text
        assert http.post(CHAT, content=_body()).status_code == 200  # the gateway carries on
    assert any("chat stream failed" in record.getMessage() for record in caplog.records)


def test_other_methods_and_routes_are_litestars(gateway: RunningGateway) -> None:
    wrong_method = httpx.get(gateway.base_url + CHAT)
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert httpx.get(gateway.base_url + "/v1/models").status_code == 200
    schema = httpx.get(gateway.base_url + "/schema/openapi.json").json()
    assert "post" in schema["paths"][CHAT]  # still documented by the Litestar controller


def test_a_path_litestar_normalises_is_served_the_same_by_its_controller(
    gateway: RunningGateway,
) -> None:
    """`/v1/chat/completions/` is not the raw route's path: Litestar matches it to
    ChatController, which must answer and fail exactly as the raw route does."""
    for path in (CHAT, CHAT + "/"):
        answer = httpx.post(gateway.base_url + path, content=_body())
        assert answer.status_code == 200, path
        assert answer.headers["x-tiergate-model"] == MODEL
        assert answer.json()["choices"][0]["message"]["content"]
        broken = httpx.post(gateway.base_url + path, content=b"{not json")
        assert broken.status_code == 400, path
        assert broken.json()["error"]["type"] == "invalid_request_error"


def _cacheable(content: str) -> bytes:
    messages = [{"role": "user", "content": content}]
    return json.dumps({"model": "auto", "messages": messages, "temperature": 0}).encode()


def test_a_byte_identical_repeat_hits_only_for_the_same_caller_and_tier(
    gateway: RunningGateway, upstream: FakeUpstream
) -> None:
    """Repeats reuse the first request's route and cache key (RouteMemo): never across callers
    (open mode scopes the cache by API key) or tier hints, which route differently."""
    body = _cacheable("Which tier answers this question?")

    def ask(key: str, tier: str | None = None) -> httpx.Response:
        headers = {"authorization": f"Bearer {key}"} | ({"x-tiergate-tier": tier} if tier else {})
        return httpx.post(gateway.base_url + CHAT, content=body, headers=headers)

    first = ask("sk-caller-a")
    assert first.headers["x-tiergate-cache"] == "miss"
    assert ask("sk-caller-a").headers["x-tiergate-cache"] == "hit"
    assert ask("sk-caller-b").headers["x-tiergate-cache"] == "miss"
    premium = ask("sk-caller-a", tier="premium")
    assert premium.headers["x-tiergate-cache"] == "miss"
    assert premium.headers["x-tiergate-tier"] == "premium" != first.headers["x-tiergate-tier"]
    assert [recorded.method for recorded in upstream.calls].count("complete") == 3

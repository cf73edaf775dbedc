"""The httpx upstream adapter over both transports, against a real HTTP server on loopback.

Each test runs with aiohttp's pool (the default) and with httpcore: the adapter must not be able
to tell them apart, in answers, in errors, or in how connections are reused.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Literal

import msgspec
import pytest
from aiohttp import web

from adapters.httpx_upstream import HttpClientSpec, HttpxChatUpstream, new_http_client
from domain.errors import UpstreamConnectionError, UpstreamHTTPError, UpstreamTimeout
from domain.ports import UpstreamCall
from tests.support.processes import free_port

Transport = Literal["aiohttp", "httpcore"]
TRANSPORTS: list[Transport] = ["aiohttp", "httpcore"]
ANSWER = b'{"id": "x", "object": "chat.completion", "extra": [1]}'
CHUNK = b'{"choices":[{"index":0,"delta":{"content":"hi"}}]}'


class Upstream:
    """A small OpenAI-shaped server that remembers which client ports it saw."""

    def __init__(self) -> None:
        self.client_ports: set[int] = set()
        self.cookies_received: list[str] = []
        self.headers_received: list[list[tuple[str, str]]] = []
        self.base_url = ""
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_post("/v1/embeddings", self.gzipped)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1)

    async def chat(self, request: web.Request) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if peer:
            self.client_ports.add(peer[1])
        if "cookie" in request.headers:
            self.cookies_received.append(request.headers["cookie"])
        self.headers_received.append([(k.lower(), v) for k, v in request.headers.items()])
        body = await request.json()
        mode = body.get("mode")
        if mode == "rate-limited":
            headers = {"retry-after-ms": "1500"}
            error = {"error": {"message": "slow down", "code": "rate_limit"}}
            return web.json_response(error, status=429, headers=headers)
        if mode in ("too-long", "bad-value"):
            code = "context_length_exceeded" if mode == "too-long" else "invalid_value"
            error = {"error": {"message": "no", "code": code, "param": "messages"}}
            return web.json_response(error, status=400)
        if mode == "hang":
            await asyncio.sleep(30)
        if mode == "cut":  # promise more than is sent, then drop the connection
            response = web.StreamResponse(headers={"content-length": "1000"})
            await response.prepare(request)
            await response.write(b'{"partial":')
            assert request.transport is not None
            request.transport.close()
            return response
        events = b"".join(b"data: " + CHUNK + b"\n\n" for _ in range(3)) + b"data: [DONE]\n\n"
        if mode == "gzipped-stream":
            headers = {"content-type": "text/event-stream", "content-encoding": "gzip"}
            return web.Response(body=gzip.compress(events), headers=headers)
        if mode == "whole-stream":  # every byte in one write, with a content-length
            return web.Response(body=events, headers={"content-type": "text/event-stream"})
        if not body.get("stream"):
            answer = web.Response(body=ANSWER, content_type="application/json")
            answer.set_cookie("session", "tenant-a")
            return answer
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for _ in range(3):
            await response.write(b"data: " + CHUNK + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        if mode == "late-end":  # the chunked body's terminator comes in a later read
            await asyncio.sleep(0.01)
        await response.write_eof()
        return response

    async def gzipped(self, request: web.Request) -> web.Response:
        return web.Response(
            body=gzip.compress(b'{"data":[]}'),
            headers={"content-encoding": "gzip", "content-type": "application/json"},
        )


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    server = Upstream()
    await server.runner.setup()
    site = web.TCPSite(server.runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.base_url = f"http://127.0.0.1:{port}/v1"
    yield server
    await server.runner.cleanup()


def adapter(base_url: str, transport: Transport, *, read_s: float = 5.0) -> HttpxChatUpstream:
    spec = HttpClientSpec(base_url=base_url, read_s=read_s, transport=transport)
    return HttpxChatUpstream(name="up", client=new_http_client(spec), api_key="sk-test")


def call(**body: object) -> UpstreamCall:
    return UpstreamCall(model="m", body=msgspec.json.encode({"model": "m", **body}), timeout_s=10.0)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_answers_pass_through_untouched(upstream: Upstream, transport: Transport) -> None:
    client = adapter(upstream.base_url, transport)
    reply = await client.complete(call())
    assert reply.body == ANSWER
    embedded = await client.embed(call())  # gzip-encoded on the wire
    assert embedded.body == b'{"data":[]}'
    await client._client.aclose()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_upstream_gets_exactly_the_headers_a_call_needs(
    upstream: Upstream, transport: Transport
) -> None:
    client = adapter(upstream.base_url, transport)
    traced = replace(call(), headers=(("traceparent", "00-ab-cd-01"),))
    await client.complete(traced)
    received = dict(upstream.headers_received[-1])
    assert len(received) == len(upstream.headers_received[-1])  # no header sent twice
    assert received["host"] == upstream.base_url.removeprefix("http://").removesuffix("/v1")
    assert received["authorization"] == "Bearer sk-test"
    assert received["content-type"] == "application/json"
    assert received["content-length"] == str(len(traced.body))
    assert received["traceparent"] == "00-ab-cd-01"
    await client._client.aclose()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_closed_client_refuses_calls_instead_of_reopening(
    upstream: Upstream, transport: Transport
) -> None:
    client = adapter(upstream.base_url, transport)
    await client.complete(call())
    await client._client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await client.complete(call())


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_upstream_cookie_never_rides_along(
    upstream: Upstream, transport: Transport
) -> None:
    client = adapter(upstream.base_url, transport)
    await client.complete(call())  # answered with Set-Cookie
    await client.complete(call())  # the shared client is used by every tenant
    assert upstream.cookies_received == []
    assert not list(client._client.cookies.jar)  # nothing kept for the next call either
    await client._client.aclose()


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mode", [None, "late-end", "whole-stream"])
async def test_streams_hand_their_connection_back(
    upstream: Upstream, transport: Transport, mode: str | None
) -> None:
    client = adapter(upstream.base_url, transport)
    for _ in range(4):
        stream = await client.open_stream(call(stream=True, mode=mode))
        assert [data async for batch in stream.events() for data in batch] == [CHUNK] * 3
        await stream.aclose()
    assert len(upstream.client_ports) == 1  # drained after [DONE], so one connection served all
    await client._client.aclose()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_compressed_stream_is_decoded(upstream: Upstream, transport: Transport) -> None:
    client = adapter(upstream.base_url, transport)
    stream = await client.open_stream(call(stream=True, mode="gzipped-stream"))
    assert [data async for batch in stream.events() for data in batch] == [CHUNK] * 3
    await stream.aclose()
    await client._client.aclose()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_error_status_carries_retry_after(upstream: Upstream, transport: Transport) -> None:
    client = adapter(upstream.base_url, transport)
    with pytest.raises(UpstreamHTTPError) as caught:
        await client.complete(call(mode="rate-limited"))
    assert caught.value.status == 429
    assert caught.value.retry_after_s == 1.5
    assert "slow down" in caught.value.message
    await client._client.aclose()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_verdict_on_the_request_keeps_its_code(
    upstream: Upstream, transport: Transport
) -> None:
    client = adapter(upstream.base_url, transport)
    with pytest.raises(UpstreamHTTPError) as too_long:
        await client.complete(call(mode="too-long"))
    assert (too_long.value.upstream_code, too_long.value.param) == (
        "context_length_exceeded",
        "messages",
    )
    assert too_long.value.judges_the_request
    assert too_long.value.other_model_may_serve  # a model with a larger window may take it
    with pytest.raises(UpstreamHTTPError) as bad:
        await client.complete(call(mode="bad-value"))
    assert bad.value.upstream_code == "invalid_value"
    assert not bad.value.other_model_may_serve  # bad input is bad on every model
    await client._client.aclose()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_silent_upstream_is_a_timeout(upstream: Upstream, transport: Transport) -> None:
    client = adapter(upstream.base_url, transport, read_s=0.2)
    with pytest.raises(UpstreamTimeout) as caught:
        await client.complete(call(mode="hang"))
    assert "ReadTimeout" in caught.value.message  # connected fine, then nothing to read
    await client._client.aclose()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_cut_body_is_a_connection_error(upstream: Upstream, transport: Transport) -> None:
    client = adapter(upstream.base_url, transport)
    with pytest.raises(UpstreamConnectionError):
        await client.complete(call(mode="cut"))
    await client._client.aclose()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_nobody_listening_is_a_connection_error(transport: Transport) -> None:
    client = adapter(f"http://127.0.0.1:{free_port()}/v1", transport)
    with pytest.raises(UpstreamConnectionError):
        await client.complete(call())
    await client._client.aclose()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_proxy_from_the_environment_carries_the_calls(
    upstream: Upstream, transport: Transport, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test server answers the proxy's absolute-form request itself, as a forward proxy would
    # after relaying it; the upstream's own host does not even resolve.
    monkeypatch.setenv("HTTP_PROXY", upstream.base_url.removesuffix("/v1"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = adapter("http://upstream.invalid/v1", transport)
    assert (await client.complete(call())).body == ANSWER
    assert dict(upstream.headers_received[-1])["host"] == "upstream.invalid"
    await client._client.aclose()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_no_proxy_sends_the_calls_direct(
    upstream: Upstream, transport: Transport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # nobody listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    client = adapter(upstream.base_url, transport)
    assert (await client.complete(call())).body == ANSWER
    await client._client.aclose()

"""OnePassCycle against uvicorn's own RequestResponseCycle: the same bytes, the same refusals."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http import httptools_impl
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle
from uvicorn.server import ServerState

from app.http_protocol import HttpToolsProtocol, OnePassCycle

DEFAULT_HEADERS = [(b"date", b"Thu, 03 Dec 2026 16:00:00 GMT"), (b"server", b"uvicorn")]


class _Transport(asyncio.Transport):
    """Records what is written; never pauses."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _cycle(kind: type[RequestResponseCycle], *, method: str, keep_alive: bool) -> Any:
    transport = _Transport()
    cycle = kind(
        scope={"type": "http", "method": method, "http_version": "1.1"},  # type: ignore[typeddict-item]
        transport=transport,
        flow=FlowControl(transport),
        logger=logging.getLogger("test"),
        access_logger=logging.getLogger("test.access"),
        access_log=False,
        default_headers=list(DEFAULT_HEADERS),
        message_event=asyncio.Event(),
        expect_100_continue=False,
        keep_alive=keep_alive,
        on_response=lambda: None,
    )
    return cycle, transport


async def _exchange(
    kind: type[RequestResponseCycle],
    messages: list[dict[str, Any]],
    *,
    method: str,
    keep_alive: bool,
) -> tuple[bytes, str | None, bool]:
    cycle, transport = _cycle(kind, method=method, keep_alive=keep_alive)
    error = None
    try:
        for message in messages:
            await cycle.send(message)
    except RuntimeError as exc:
        error = str(exc)
    return b"".join(transport.written), error, cycle.keep_alive


def _start(status: int, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http.response.start", "status": status, "headers": headers}


def _body(chunk: bytes, *, more: bool = False) -> dict[str, Any]:
    return {"type": "http.response.body", "body": chunk, "more_body": more}


JSON = (b"content-type", b"application/json")
CASES = {
    "json": [_start(200, [JSON, (b"content-length", b"2")]), _body(b"{}")],
    "tiergate headers": [
        _start(
            200,
            [
                (b"x-tiergate-model", b"m"),
                (b"x-tiergate-cost", b"0.1"),
                JSON,
                (b"Content-Length", b"5"),
            ],
        ),
        _body(b"hello"),
    ],
    "event stream": [
        _start(200, [(b"content-type", b"text/event-stream")]),
        _body(b"data: 1\n\n", more=True),
        _body(b"data: [DONE]\n\n"),
    ],
    "event stream in one part": [
        _start(200, [(b"content-type", b"text/event-stream")]),
        _body(b"data: 1\n\ndata: [DONE]\n\n"),
    ],
    "event stream opening with an empty part": [
        _start(200, [(b"content-type", b"text/event-stream")]),
        _body(b"", more=True),
        _body(b"data: 1\n\n", more=True),
        _body(b""),
    ],
    "declared chunked": [
        _start(200, [(b"transfer-encoding", b"Chunked")]),
        _body(b"x"),
    ],
    "connection close": [
        _start(200, [(b"connection", b"keep-alive, Close"), (b"content-length", b"0")]),
        _body(b""),
    ],
    "no content": [_start(204, []), _body(b"")],
    "not modified": [_start(304, [(b"etag", b'"a"')]), _body(b"")],
    "bad name": [_start(200, [(b"x-fine", b"1"), (b"bad name", b"2")])],
    "bad value": [_start(200, [(b"x-fine", b"1"), (b"x-split", b"a\r\nx-injected: 1")])],
    "nul in value": [_start(200, [(b"x-nul", b"a\x00b")])],
    "tab in value": [_start(200, [(b"x-tab", b"a\tb")]), _body(b"")],
    "bad name in default position": [_start(200, [(b"(x)", b"1")])],
    "body too long": [_start(200, [(b"content-length", b"1")]), _body(b"xy")],
}


@pytest.mark.parametrize("method", ["POST", "HEAD"])
@pytest.mark.parametrize("keep_alive", [True, False])
@pytest.mark.parametrize("case", sorted(CASES))
async def test_the_one_pass_cycle_writes_and_refuses_what_uvicorn_does(
    case: str, method: str, keep_alive: bool
) -> None:
    messages = CASES[case]
    expected = await _exchange(RequestResponseCycle, messages, method=method, keep_alive=keep_alive)
    assert await _exchange(OnePassCycle, messages, method=method, keep_alive=keep_alive) == expected


@pytest.mark.parametrize(
    ("case", "method", "writes"),
    [
        ("json", "POST", 1),
        ("json", "HEAD", 1),
        ("event stream", "POST", 2),
        ("event stream", "HEAD", 1),
        ("event stream in one part", "POST", 1),
        ("event stream opening with an empty part", "POST", 3),
        ("no content", "POST", 1),
    ],
)
async def test_a_head_leaves_with_the_first_body_message(
    case: str, method: str, writes: int
) -> None:
    cycle, transport = _cycle(OnePassCycle, method=method, keep_alive=True)
    for message in CASES[case]:
        await cycle.send(message)
    assert len([chunk for chunk in transport.written if chunk]) == writes
    assert cycle.response_complete


async def test_a_body_sent_in_parts_follows_its_head_the_usual_way() -> None:
    messages = [_start(200, [(b"content-length", b"4")]), _body(b"ab", more=True), _body(b"cd")]
    expected = await _exchange(RequestResponseCycle, messages, method="POST", keep_alive=True)
    assert await _exchange(OnePassCycle, messages, method="POST", keep_alive=True) == expected
    cycle, transport = _cycle(OnePassCycle, method="POST", keep_alive=True)
    for message in messages:
        await cycle.send(message)
    assert transport.written[0].endswith(b"\r\n\r\n") and transport.written[1:] == [b"ab", b"cd"]


async def test_bad_headers_are_refused_before_anything_is_written() -> None:
    for case in ("bad name", "bad value", "nul in value"):
        written, error, _ = await _exchange(
            OnePassCycle, CASES[case], method="POST", keep_alive=True
        )
        assert written == b""
        assert error is not None and error.startswith("Invalid HTTP header")


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    """Answers with what the server made of the request: the scope fields it parsed."""
    message = await receive()
    seen = [scope["method"], scope["http_version"], scope["path"], scope["raw_path"].decode()]
    seen += [scope["query_string"].decode(), str(len(message.get("body", b"")))]
    body = " ".join(seen).encode()
    await send(_start(200, [JSON, (b"content-length", str(len(body)).encode())]))
    await send(_body(body))


async def _serve(protocol_class: type[asyncio.Protocol], raw: bytes) -> bytes:
    config = uvicorn.Config(_echo, http=protocol_class, log_level="warning")
    config.load()
    server_state = ServerState()
    server_state.default_headers = list(DEFAULT_HEADERS)
    protocol: Any = protocol_class(  # type: ignore[call-arg]
        config=config, server_state=server_state, app_state={}
    )
    transport = _Transport()
    protocol.connection_made(transport)
    protocol.data_received(raw)
    for _ in range(200):  # the request tasks run on this loop
        await asyncio.sleep(0)
    protocol.connection_lost(None)
    return b"".join(transport.written)


REQUESTS = {
    "post": b"POST /v1/chat/completions HTTP/1.1\r\nhost: a\r\ncontent-length: 2\r\n\r\n{}",
    "query and escapes": b"GET /v1/a%20b?x=1&y=%2F HTTP/1.1\r\nhost: a\r\n\r\n",
    "http/1.0": b"GET /healthz HTTP/1.0\r\n\r\n",
    "connection close": b"GET / HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
    "pipelined": b"GET /1 HTTP/1.1\r\nhost: a\r\n\r\nGET /2 HTTP/1.1\r\nhost: a\r\n\r\n",
    "malformed": b"GET / HTTP/1.1\r\nhost a\r\n\r\n",
}


@pytest.mark.parametrize("name", sorted(REQUESTS))
async def test_the_protocol_answers_what_uvicorns_answers(name: str) -> None:
    expected = await _serve(httptools_impl.HttpToolsProtocol, REQUESTS[name])
    assert expected  # every request here gets an answer
    assert await _serve(HttpToolsProtocol, REQUESTS[name]) == expected


async def test_uvicorn_loads_the_protocol_by_name_and_it_serves_one_pass_cycles() -> None:
    config = uvicorn.Config(_echo, http="app.http_protocol:HttpToolsProtocol", log_level="warning")
    config.load()
    assert config.http_protocol_class is HttpToolsProtocol
    protocol = HttpToolsProtocol(config=config, server_state=ServerState(), app_state={})
    protocol.connection_made(_Transport())
    protocol.data_received(REQUESTS["post"])
    assert type(protocol.cycle) is OnePassCycle
    protocol.connection_lost(None)

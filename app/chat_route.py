"""ChatRoute: POST /v1/chat/completions served as plain ASGI, in front of the Litestar app.

The chat route is the gateway's hot path, and Litestar's per-request machinery (routing,
kwargs and signature models, the Request and Response objects, middleware stack) was ~30% of a
cache hit's CPU and ~0.2 ms of a miss (docs/benchmarks.md). This app answers that one route
itself with the same service, the same telemetry and the same error table, and hands everything
else, lifespan included, to Litestar. `ChatController` still declares the route, so the OpenAPI
schema documents it; it serves the paths Litestar normalises to it (`/v1/chat/completions/`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from typing import Any

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import (
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)
from litestar.types.asgi_types import RawHeaders

from app import sse
from app.chat_endpoint import ChatEndpoint
from app.error_responses import (
    ErrorReply,
    client_closed_reply,
    error_reply,
    gateway_error_reply,
    unexpected_error_reply,
)
from app.observability.middleware import STATE_KEY, HttpTelemetry, measured
from app.services.results import ChatStream
from domain.errors import GatewayError

logger = logging.getLogger(__name__)

PATH = "/v1/chat/completions"
_JSON = (b"content-type", b"application/json")
_EVENT_STREAM = (b"content-type", b"text/event-stream; charset=utf-8")


class _ClientGone(Exception):
    """The client hung up before its request body arrived."""


class _BodyTooLarge(Exception):
    pass


class ChatRoute:
    def __init__(self, litestar: Litestar, *, max_body_bytes: int) -> None:
        self.litestar = litestar
        self._max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"] != PATH or scope["method"] != "POST":
            await self.litestar(scope, receive, send)
            return
        telemetry: HttpTelemetry | None = self.litestar.state.get(STATE_KEY)
        if telemetry is None:  # the lifespan has not run: nothing to serve with yet
            await self.litestar(scope, receive, send)
            return
        await measured(telemetry, PATH, self._serve, scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        chat: ChatEndpoint = self.litestar.state.chat_endpoint
        try:
            body = await _read_body(scope, receive, self._max_body_bytes)
            outcome = await chat.service.handle(body, chat.context(scope))
        except GatewayError as exc:
            await _send_error(send, gateway_error_reply(exc))
            return
        except _ClientGone:
            await _send_error(send, client_closed_reply())
            return
        except _BodyTooLarge:
            await _send_error(send, _too_large(self._max_body_bytes))
            return
        except Exception as exc:
            await _send_error(send, unexpected_error_reply(exc))
            return
        headers = _encoded(outcome.headers)
        if isinstance(outcome, ChatStream):
            await _send_stream(outcome.events, headers, receive, send)
            return
        length = (b"content-length", str(len(outcome.body)).encode())
        await send(_start(200, [*headers, _JSON, length]))
        await send(_body(outcome.body))


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise _BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect
            raise _ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _send_stream(
    events: AsyncGenerator[bytes, None],
    headers: list[tuple[bytes, bytes]],
    receive: Receive,
    send: Send,
) -> None:
    """Relay the events until they end or the client hangs up, whichever comes first: a client
    that went away cancels the relay, which closes the upstream stream and settles the call.

    The relay runs in this task and a watcher cancels it on a hang-up: one task per stream
    instead of a relay task, a watcher task and a wait on both. A stream's first event is
    ready at once (`ChatStream`), so the watcher starts after it, and not at all when the first
    write ends the stream (a replayed answer, a stream that came in one read)."""
    await send(_start(200, [*headers, _EVENT_STREAM]))
    relaying = asyncio.current_task()
    assert relaying is not None
    watcher: asyncio.Future[None] | None = None
    ended = False
    try:
        async for event in events:
            # [DONE] is a stream's last event: it ends the body in the same write.
            ended = event.endswith(sse.DONE)
            await send(_body(event, more=not ended))
            if watcher is None and not ended:
                watcher = asyncio.ensure_future(_cancel_on_hang_up(receive, relaying))
    except asyncio.CancelledError:
        if watcher is None or not _hung_up(watcher) or relaying.uncancel() > 0:
            raise  # cancelled from outside (a shutdown), not by the watcher
        return
    except Exception as failure:
        # The status line has gone out: all that is left is to log the failure and end the body.
        logger.error("chat stream failed: %s", type(failure).__name__, exc_info=failure)
    finally:
        if watcher is not None:
            watcher.cancel()
        await events.aclose()
    if not ended:
        await send(_body(b""))


async def _cancel_on_hang_up(receive: Receive, relaying: asyncio.Task[Any]) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    relaying.cancel()


def _hung_up(watcher: asyncio.Future[None]) -> bool:
    """The watcher saw the client leave (and so cancelled the relay)."""
    return watcher.done() and not watcher.cancelled() and watcher.exception() is None


async def _send_error(send: Send, reply: ErrorReply) -> None:
    length = (b"content-length", str(len(reply.body)).encode())
    headers = [*_encoded(reply.headers), _JSON, length]
    await send(_start(reply.status, headers))
    await send(_body(reply.body))


def _start(status: int, headers: RawHeaders) -> HTTPResponseStartEvent:
    return {"type": "http.response.start", "status": status, "headers": headers}


def _body(chunk: bytes, *, more: bool = False) -> HTTPResponseBodyEvent:
    return {"type": "http.response.body", "body": chunk, "more_body": more}


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


def _too_large(limit: int) -> ErrorReply:
    return error_reply(
        413,
        f"The request body is larger than the gateway's limit of {limit} bytes.",
        error_type="invalid_request_error",
        code="request_too_large",
    )

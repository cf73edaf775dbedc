"""The simulator as a standalone OpenAI-compatible HTTP server: a raw ASGI app on uvicorn."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable

import msgspec
import uvicorn

from adapters.simulator.admin import AdminRoutes
from adapters.simulator.asgi import (
    ASGIApp,
    Receive,
    Scope,
    Send,
    header,
    read_body,
    send_bytes,
    wait_for_disconnect,
)
from adapters.simulator.catalog import models_body
from adapters.simulator.core import SimulatorCore
from adapters.simulator.faults import FaultKind
from adapters.simulator.outcomes import Disruption, Failure, Reply, StreamReply
from adapters.simulator.stats import SimulatorStats
from adapters.simulator.streaming import send_stream
from adapters.simulator.transport import TransportExposingProtocol, close_connection

Handler = Callable[[Scope, Receive, Send], Awaitable[None]]
_NOT_FOUND = (
    b'{"error":{"message":"Unknown path","type":"invalid_request_error","code":"not_found"}}'
)


class _ModelField(msgspec.Struct):
    model: str = ""


_model_decoder = msgspec.json.Decoder(_ModelField)


class SimulatorApp:
    """Routes the OpenAI endpoints to the core and `/_sim/*` to the admin routes."""

    def __init__(self, core: SimulatorCore, *, name: str) -> None:
        self.core = core
        self.name = name
        self.stats = SimulatorStats()
        models = models_body(core.catalog)
        admin = AdminRoutes(core, self.stats, name=name)
        self._routes: dict[tuple[str, str], Handler] = {
            ("POST", "/v1/chat/completions"): self._chat,
            ("POST", "/v1/embeddings"): self._embeddings,
            ("GET", "/v1/models"): lambda scope, receive, send: send_bytes(send, 200, models),
            **admin.routes(),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            handler = self._routes.get((scope["method"], scope["path"]))
            if handler is None:
                await send_bytes(send, 404, _NOT_FOUND)
            else:
                await handler(scope, receive, send)
        elif scope["type"] == "lifespan":
            while True:
                event = (await receive())["type"]
                if event == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    async def _chat(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive)
        try:
            model = _model_decoder.decode(body).model
        except msgspec.DecodeError:
            model = ""
        self.stats.record_chat(
            path=scope["path"],
            model=model,
            body=body,
            headers=scope["headers"],
            authorized=header(scope, b"authorization") is not None,
        )
        outcome = self.core.chat(body, upstream=self.name)
        if isinstance(outcome, StreamReply):
            await send_stream(outcome, scope, receive, send, self.stats)
        else:
            await self._answer(outcome, scope, receive, send)

    async def _embeddings(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive)
        self.stats.embeddings_requests += 1
        await self._answer(self.core.embed(body, upstream=self.name), scope, receive, send)

    async def _answer(
        self, outcome: Reply | Failure | Disruption, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if isinstance(outcome, Disruption):
            self.stats.record_fault(outcome.kind)
            if outcome.kind is not FaultKind.HANG:
                close_connection(scope, reset=True)
            await wait_for_disconnect(receive)
            return
        if outcome.delay_s > 0.0:
            await asyncio.sleep(outcome.delay_s)
        if isinstance(outcome, Failure):
            self.stats.record_status(outcome.status)
            await send_bytes(send, outcome.status, outcome.body, headers=_retry_headers(outcome))
            return
        self.stats.record_status(200)
        if not outcome.cut:
            await send_bytes(send, 200, outcome.body)
            return
        self.stats.record_cut()
        length = b"%d" % len(outcome.body)
        start_headers = [(b"content-type", b"application/json"), (b"content-length", length)]
        await send({"type": "http.response.start", "status": 200, "headers": start_headers})
        half = outcome.body[: len(outcome.body) // 2]
        await send({"type": "http.response.body", "body": half, "more_body": True})
        close_connection(scope, reset=False)
        await wait_for_disconnect(receive)


def _retry_headers(failure: Failure) -> list[tuple[bytes, bytes]]:
    if failure.retry_after_s is None:
        return []
    seconds = b"%d" % math.ceil(failure.retry_after_s)
    millis = b"%d" % round(failure.retry_after_s * 1000)
    return [(b"retry-after", seconds), (b"retry-after-ms", millis)]


def build_app(core: SimulatorCore, *, name: str) -> ASGIApp:
    return SimulatorApp(core, name=name)


def build_server(app: ASGIApp, *, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server (uvloop, httptools, no access log) ready to `run()`."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http=TransportExposingProtocol,
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=1,
        backlog=4096,
    )
    return uvicorn.Server(config)


def serve(*, host: str, port: int, core: SimulatorCore, name: str) -> None:
    """Run the simulator server until interrupted."""
    build_server(build_app(core, name=name), host=host, port=port).run()

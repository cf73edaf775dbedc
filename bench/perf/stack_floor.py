"""The floor of tiergate's own stack: its server and upstream adapter with no gateway features.

uvicorn (uvloop, httptools with tiergate's one-pass header check, as `tiergate serve` runs it)
serves a raw ASGI app that relays POST /v1/chat/completions through tiergate's
`HttpxChatUpstream` over the aiohttp transport, re-framing streamed events the way the gateway
does. No parsing, routing, pricing, cache, governance, metrics or tracing: what is left is the
cost of the hops themselves, to set against the aiohttp pass-through. Runs in tiergate's venv:
    python -m bench.perf.stack_floor --port 9300 --upstream http://127.0.0.1:9100/v1
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn

from adapters.httpx_upstream import (
    HttpClientSpec,
    HttpxChatUpstream,
    UpstreamHttpClient,
    new_http_client,
)
from domain.ports import UpstreamCall

Message = dict[str, Any]
_JSON = [(b"content-type", b"application/json")]
_EVENT_STREAM = [(b"content-type", b"text/event-stream")]


class StackFloor:
    def __init__(self, upstream_url: str) -> None:
        self._spec = HttpClientSpec(base_url=upstream_url)
        self._client: UpstreamHttpClient | None = None
        self._upstream: HttpxChatUpstream | None = None

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["path"] == "/healthz":
            await _respond(send, 200, [], b"ok")
        else:
            await self._relay(await _body(receive), send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._client = new_http_client(self._spec)
                self._upstream = HttpxChatUpstream(name="floor", client=self._client, api_key="x")
                await send({"type": "lifespan.startup.complete"})
            else:
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _relay(self, body: bytes, send: Any) -> None:
        assert self._upstream is not None
        call = UpstreamCall(model="floor", body=body, timeout_s=30.0)
        if b'"stream":true' not in body:
            reply = await self._upstream.complete(call)
            await _respond(send, 200, _JSON, reply.body)
            return
        stream = await self._upstream.open_stream(call)
        await send({"type": "http.response.start", "status": 200, "headers": _EVENT_STREAM})
        try:
            async for batch in stream.events():
                framed = b"".join(b"data: " + payload + b"\n\n" for payload in batch)
                await send({"type": "http.response.body", "body": framed, "more_body": True})
        finally:
            await stream.aclose()
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    length = (b"content-length", str(len(body)).encode())
    await send({"type": "http.response.start", "status": status, "headers": [*headers, length]})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    uvicorn.run(
        StackFloor(args.upstream),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="app.http_protocol:HttpToolsProtocol",
        log_level="warning",
        access_log=False,
        lifespan="on",
    )


if __name__ == "__main__":
    main()

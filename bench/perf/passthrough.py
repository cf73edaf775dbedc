"""The floor for a Python hop: a featureless aiohttp pass-through of POST /v1/chat/completions.

Runs in the benchmark's tools venv (aiohttp and uvloop come with LiteLLM), not in tiergate's:
    python passthrough.py --port 9200 --upstream http://127.0.0.1:9100/v1
"""

from __future__ import annotations

import argparse

import aiohttp
import uvloop
from aiohttp import web

_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive", "date", "server"}


def build_app(upstream: str) -> web.Application:
    target = upstream.rstrip("/") + "/chat/completions"
    session: aiohttp.ClientSession | None = None

    async def open_session(app: web.Application) -> None:
        nonlocal session
        connector = aiohttp.TCPConnector(limit=1024, ttl_dns_cache=None)
        session = aiohttp.ClientSession(connector=connector, auto_decompress=False)

    async def close_session(app: web.Application) -> None:
        if session is not None:
            await session.close()

    async def chat(request: web.Request) -> web.StreamResponse:
        assert session is not None
        body = await request.read()
        headers = {"content-type": "application/json", "authorization": "Bearer x"}
        async with session.post(target, data=body, headers=headers) as upstream_response:
            passed = {
                k: v for k, v in upstream_response.headers.items() if k.lower() not in _HOP_BY_HOP
            }
            if upstream_response.content_type != "text/event-stream":
                payload = await upstream_response.read()
                return web.Response(body=payload, status=upstream_response.status, headers=passed)
            response = web.StreamResponse(status=upstream_response.status, headers=passed)
            await response.prepare(request)
            async for chunk in upstream_response.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.on_startup.append(open_session)
    app.on_cleanup.append(close_session)
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/healthz", health)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    web.run_app(
        build_app(args.upstream),
        host="127.0.0.1",
        port=args.port,
        access_log=None,
        print=None,
        loop=uvloop.new_event_loop(),
    )


if __name__ == "__main__":
    main()

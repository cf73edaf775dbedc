"""HttpxChatUpstream: one OpenAI-compatible upstream reached over a shared httpx.AsyncClient."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from adapters.sse_parser import DONE, sse_data
from adapters.upstream_errors import http_error, translated_errors
from domain.errors import UpstreamConnectionError
from domain.ports import UpstreamCall, UpstreamReply


@dataclass(frozen=True, slots=True)
class HttpClientSpec:
    """How to build the shared client for one upstream."""

    base_url: str
    connect_s: float = 5.0
    read_s: float = 300.0
    write_s: float = 30.0
    pool_s: float = 5.0
    max_connections: int = 512
    max_keepalive_connections: int = 128


def new_http_client(spec: HttpClientSpec) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=spec.base_url.rstrip("/") + "/",
        timeout=httpx.Timeout(
            connect=spec.connect_s, read=spec.read_s, write=spec.write_s, pool=spec.pool_s
        ),
        limits=httpx.Limits(
            max_connections=spec.max_connections,
            max_keepalive_connections=spec.max_keepalive_connections,
        ),
    )


class HttpxChatUpstream:
    def __init__(self, *, name: str, client: httpx.AsyncClient, api_key: str | None) -> None:
        self.name = name
        self._client = client
        self._auth = {"authorization": f"Bearer {api_key}"} if api_key else {}

    async def complete(self, call: UpstreamCall) -> UpstreamReply:
        return await self._post("chat/completions", call)

    async def embed(self, call: UpstreamCall) -> UpstreamReply:
        return await self._post("embeddings", call)

    async def open_stream(self, call: UpstreamCall) -> HttpxUpstreamStream:
        request = self._request("chat/completions", call)
        with translated_errors(self.name):
            response = await self._client.send(request, stream=True)
        if response.status_code >= 400:
            try:
                with translated_errors(self.name):
                    await response.aread()
            finally:
                await response.aclose()
            raise http_error(response, self.name)
        return HttpxUpstreamStream(response, upstream=self.name)

    async def _post(self, path: str, call: UpstreamCall) -> UpstreamReply:
        with translated_errors(self.name):
            response = await self._client.send(self._request(path, call))
        if response.status_code >= 400:
            raise http_error(response, self.name)
        return UpstreamReply(body=response.content, upstream=self.name)

    def _request(self, path: str, call: UpstreamCall) -> httpx.Request:
        headers = {"content-type": "application/json", **self._auth, **dict(call.headers)}
        timeout = _bounded(self._client.timeout, call.timeout_s)
        return self._client.build_request(
            "POST", path, content=call.body, headers=headers, timeout=timeout
        )


class HttpxUpstreamStream:
    def __init__(self, response: httpx.Response, *, upstream: str) -> None:
        self.upstream = upstream
        self._response = response

    async def events(self) -> AsyncIterator[bytes]:
        with translated_errors(self.upstream):
            async for data in sse_data(self._response.aiter_bytes()):
                if data == DONE:
                    return
                yield data
        raise UpstreamConnectionError(
            f"upstream {self.upstream} ended the stream before [DONE]", upstream=self.upstream
        )

    async def aclose(self) -> None:
        await self._response.aclose()


def _bounded(timeout: httpx.Timeout, remaining_s: float) -> httpx.Timeout:
    """Never wait past the request's deadline, whatever the client's defaults are."""

    def cap(value: float | None) -> float:
        return remaining_s if value is None else min(value, remaining_s)

    return httpx.Timeout(
        connect=cap(timeout.connect),
        read=cap(timeout.read),
        write=cap(timeout.write),
        pool=cap(timeout.pool),
    )

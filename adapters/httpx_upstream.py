"""HttpxChatUpstream: one OpenAI-compatible upstream reached over a shared httpx.AsyncClient."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from adapters.aiohttp_transport import AiohttpResponseStream, AiohttpTransport
from adapters.sse_parser import DONE, SseBatches
from adapters.upstream_errors import http_error, translated_errors
from domain.errors import UpstreamConnectionError
from domain.ports import UpstreamCall, UpstreamReply

_DRAIN_S = 0.05


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
    transport: Literal["aiohttp", "httpcore"] = "aiohttp"


class UpstreamHttpClient(httpx.AsyncClient):
    """An AsyncClient for API upstreams.

    No cookie jar: the client is shared by every tenant, so a cookie one upstream answer sets
    must never ride along on another tenant's call (and extracting cookies from each response
    cost ~4% of the gateway's CPU).

    `exchange` hands a request straight to the aiohttp transport: this client never
    authenticates, follows redirects or runs event hooks, and `send`'s machinery for those was
    a large part of the httpx layer's cost per call (docs/benchmarks.md). With httpx's own
    transport (`transport: httpcore`, the way back to plain httpx) it is `send`, so that mode
    keeps everything httpx does, proxies from the environment included.
    """

    def __init__(self, *, transport: AiohttpTransport | None, **options: Any) -> None:
        super().__init__(transport=transport, **options)
        self._wire = transport

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        pass  # AsyncClient.__init__ assigns an empty jar; there is nothing to keep

    async def exchange(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        """`send(request, stream=stream)`, minus what this client never uses."""
        if self._wire is None:
            return await self.send(request, stream=stream)
        if self.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        if stream:
            response = await self._wire.handle_async_request(request)
        else:
            response = await self._wire.read_whole(request)
        response.request = request
        return response


class _DiscardedCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        pass


_NO_COOKIES = _DiscardedCookies()


def new_http_client(spec: HttpClientSpec) -> UpstreamHttpClient:
    transport = None
    if spec.transport == "aiohttp":
        transport = AiohttpTransport(max_connections=spec.max_connections)
    return UpstreamHttpClient(
        transport=transport,
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
    def __init__(self, *, name: str, client: UpstreamHttpClient, api_key: str | None) -> None:
        self.name = name
        self._client = client
        # Built once: merging URLs and headers per request was ~10% of the gateway's CPU.
        self._urls = {
            path: client.base_url.join(path) for path in ("chat/completions", "embeddings")
        }
        self._headers = httpx.Headers(
            [
                *client.headers.multi_items(),
                ("host", client.base_url.netloc.decode("ascii")),
                ("content-type", "application/json"),
                *([("authorization", f"Bearer {api_key}")] if api_key else []),
            ],
            encoding="ascii",
        )

    async def complete(self, call: UpstreamCall) -> UpstreamReply:
        return await self._post("chat/completions", call)

    async def embed(self, call: UpstreamCall) -> UpstreamReply:
        return await self._post("embeddings", call)

    async def open_stream(self, call: UpstreamCall) -> HttpxUpstreamStream:
        request = self._request("chat/completions", call)
        with translated_errors(self.name):
            response = await self._client.exchange(request, stream=True)
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
            response = await self._client.exchange(self._request(path, call))
        if response.status_code >= 400:
            raise http_error(response, self.name)
        return UpstreamReply(body=response.content, upstream=self.name)

    def _request(self, path: str, call: UpstreamCall) -> httpx.Request:
        # A ready stream and headers copied from a normalised set skip httpx's per-request
        # header encoding and content sniffing; Host and Content-Length are then ours to set.
        headers = httpx.Headers(self._headers, encoding="ascii")
        headers["content-length"] = str(len(call.body))
        for name, value in call.headers:
            headers[name] = value
        request = httpx.Request(
            "POST",
            self._urls[path],
            headers=headers,
            stream=httpx.ByteStream(call.body),
            extensions={"timeout": _bounded(self._client.timeout, call.timeout_s)},
        )
        request.headers.encoding = "ascii"  # as they were built: the copy would detect it again
        return request


class HttpxUpstreamStream:
    def __init__(self, response: httpx.Response, *, upstream: str) -> None:
        self.upstream = upstream
        self.ended = False
        self._response = response
        # Without a content-encoding there is nothing to decode: the aiohttp transport's reads
        # skip httpx's layers, and say when the body has been read to its end.
        encoded = "content-encoding" in response.headers
        stream = response.stream
        self._raw = stream if isinstance(stream, AiohttpResponseStream) and not encoded else None
        reads: AsyncIterable[bytes]
        if self._raw is not None:
            reads = self._raw
        else:
            reads = response.aiter_bytes() if encoded else response.aiter_raw()
        self._batches = SseBatches(reads)

    async def events(self) -> AsyncIterator[list[bytes]]:
        with translated_errors(self.upstream):
            async for batch in self._batches:
                if DONE in batch:
                    self.ended = True
                    if before := batch[: batch.index(DONE)]:
                        yield before
                    return
                yield batch
        raise UpstreamConnectionError(
            f"upstream {self.upstream} ended the stream before [DONE]", upstream=self.upstream
        )

    async def aclose(self) -> None:
        if self.ended and not (self._raw is not None and self._raw.read_to_end()):
            await self._drain()
        await self._response.aclose()

    async def _drain(self) -> None:
        """Read what follows [DONE] (the chunked terminator, when a later read brings it) so
        the connection goes back to the pool instead of being dropped; give up after a moment."""
        try:
            async with asyncio.timeout(_DRAIN_S):
                async for _ in self._batches:
                    pass
        except (TimeoutError, httpx.HTTPError):
            pass  # closing drops the connection, as it would have without the drain


def _bounded(timeout: httpx.Timeout, remaining_s: float) -> dict[str, float]:
    """Never wait past the request's deadline, whatever the client's defaults are."""

    def cap(value: float | None) -> float:
        return remaining_s if value is None else min(value, remaining_s)

    return {
        "connect": cap(timeout.connect),
        "read": cap(timeout.read),
        "write": cap(timeout.write),
        "pool": cap(timeout.pool),
    }

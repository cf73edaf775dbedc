"""AiohttpTransport: httpx's API over aiohttp's connection pool.

httpcore's pool rescans every pooled connection on each request and response close and runs
on anyio; under load that was half of the gateway's CPU (docs/benchmarks.md). This transport
keeps `httpx.AsyncClient` (requests, timeouts, errors, streaming) and hands the wire to an
`aiohttp.ClientSession`. aiohttp failures are raised as the httpx exceptions httpcore would
raise, so callers cannot tell the transports apart, and proxies come from the same environment
variables httpx reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.request import getproxies, proxy_bypass

import aiohttp
import httpx

from adapters.error_translation import ErrorTranslation

_HTTP_1_1 = {"http_version": b"HTTP/1.1"}


class AiohttpTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, max_connections: int) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str, int | None], str | None] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._send(request)
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=AiohttpResponseStream(response),
            extensions=_HTTP_1_1,
        )

    async def read_whole(self, request: httpx.Request) -> httpx.Response:
        """The response with its body read, for a caller that wants it whole: what
        `handle_async_request` and `aread` give, without a stream to read it through."""
        response = await self._send(request)
        try:
            with _as_httpx_errors(stage="read"):
                body = await response.read()
        finally:
            response.release()
        return whole_response(response.status, response.raw_headers, body)

    async def _send(self, request: httpx.Request) -> aiohttp.ClientResponse:
        timeout = _client_timeout(request.extensions.get("timeout", {}))
        with _as_httpx_errors(stage="connect"):
            return await self._open_session().request(
                request.method,
                str(request.url),
                headers=_str_headers(request.headers),
                data=await _body_of(request),
                timeout=timeout,
                allow_redirects=False,
                compress=None,
                proxy=self._proxy_for(request.url),
            )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _proxy_for(self, url: httpx.URL) -> str | None:
        """The proxy for `url`'s origin, looked up once: aiohttp's own `trust_env` would look it
        up on a worker thread for every request, and read ~/.netrc for upstream credentials."""
        origin = (url.scheme, url.host, url.port)
        try:
            return self._proxies[origin]
        except KeyError:
            proxy = self._proxies[origin] = _environment_proxy(url)
            return proxy

    def _open_session(self) -> aiohttp.ClientSession:
        # Created lazily: a ClientSession binds to the running event loop.
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections, ttl_dns_cache=300),
                auto_decompress=False,  # httpx decodes content-encoding itself
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session


def _str_headers(headers: httpx.Headers) -> list[tuple[str, str]]:
    """`headers.multi_items()`, which reads the `encoding` property twice per header."""
    encoding = headers.encoding
    return [(name.decode(encoding), value.decode(encoding)) for name, value in headers.raw]


async def _body_of(request: httpx.Request) -> bytes:
    # The adapter's requests carry their body in a ByteStream, which joins in place;
    # `aread` would go through an async generator for it.
    if isinstance(request.stream, httpx.ByteStream):
        return b"".join(request.stream)
    return await request.aread()


def whole_response(
    status: int, raw_headers: tuple[tuple[bytes, bytes], ...], body: bytes
) -> httpx.Response:
    """A read response, as `Response(content=body)` builds it, for much less when the body
    has no content-encoding to undo: `content=` sends the bytes through httpx's decoder and
    chunker, ~9 us a call (a twentieth of a gateway miss). The attribute set is the one
    `Response.read()` fills (pinned httpx; tests/unit/test_aiohttp_transport.py checks it)."""
    headers = httpx.Headers(raw_headers)
    if "content-encoding" in headers:
        return httpx.Response(status, headers=headers, content=body, extensions=_HTTP_1_1)
    response = httpx.Response(
        status, headers=headers, stream=httpx.ByteStream(body), extensions=_HTTP_1_1
    )
    response._content = body
    response.is_stream_consumed = True
    response.is_closed = True
    return response


class AiohttpResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _BodyReads(self._response.content)

    def read_to_end(self) -> bool:
        """Whether every byte of the body has been read (aiohttp has then put the connection
        back in its pool already): a reader may stop here without draining anything."""
        return self._response.content.at_eof()

    async def aclose(self) -> None:
        # Back to the pool when the body was read to its end, otherwise the connection closes.
        self._response.release()


class _BodyReads:
    """The body as it arrives, one chunk per network read, with aiohttp's errors as httpx's.
    Not an async generator, so that a reader may stop early without leaving one to finalize."""

    __slots__ = ("_content",)

    def __init__(self, content: aiohttp.StreamReader) -> None:
        self._content = content

    def __aiter__(self) -> _BodyReads:
        return self

    async def __anext__(self) -> bytes:
        with _as_httpx_errors(stage="read"):
            chunk = await self._content.readany()
        if not chunk:
            raise StopAsyncIteration
        return chunk


def _environment_proxy(url: httpx.URL) -> str | None:
    """What httpx would use: `<SCHEME>_PROXY`, else `ALL_PROXY`, unless `NO_PROXY` matches."""
    proxies = getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if not proxy or proxy_bypass(url.host):
        return None
    return proxy


def _client_timeout(timeout: dict[str, float | None]) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(
        total=None,
        connect=timeout.get("pool"),
        sock_connect=timeout.get("connect"),
        sock_read=timeout.get("read"),
    )


class _as_httpx_errors(ErrorTranslation):
    """aiohttp's exceptions as the httpx ones the adapter above translates."""

    __slots__ = ("_stage",)

    def __init__(self, *, stage: str) -> None:
        self._stage = stage

    def translated(self, exc: BaseException) -> BaseException | None:
        return _httpx_error(exc, self._stage)


def _httpx_error(exc: BaseException, stage: str) -> httpx.TransportError | None:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):  # no connection within pool + connect
        return httpx.ConnectTimeout(str(exc) or "timed out connecting")
    if isinstance(exc, TimeoutError):  # aiohttp's SocketTimeoutError: no bytes within read time
        return httpx.ReadTimeout(str(exc) or "timed out reading")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(exc))
    if isinstance(exc, aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(str(exc))
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(str(exc) or "server disconnected")
    if isinstance(exc, aiohttp.ClientOSError):
        error = httpx.ConnectError if stage == "connect" else httpx.ReadError
        return error(str(exc) or type(exc).__name__)
    if isinstance(exc, aiohttp.ClientError):
        return httpx.TransportError(str(exc) or type(exc).__name__)
    return None

"""The aiohttp transport's read responses behave as httpx's own `Response(content=...)`."""

from __future__ import annotations

import gzip

import httpx
import pytest

from adapters.aiohttp_transport import whole_response

PLAIN = ((b"Content-Type", b"application/json"), (b"Retry-After", b"2"))
GZIPPED = ((b"Content-Type", b"application/json"), (b"Content-Encoding", b"gzip"))
BODY = b'{"error": {"message": "slow down"}}'


@pytest.mark.parametrize(
    ("raw_headers", "wire_body"), [(PLAIN, BODY), (GZIPPED, gzip.compress(BODY))]
)
async def test_a_whole_response_reads_as_httpx_would_have_read_it(
    raw_headers: tuple[tuple[bytes, bytes], ...], wire_body: bytes
) -> None:
    ours = whole_response(429, raw_headers, wire_body)
    httpx_own = httpx.Response(429, headers=raw_headers, content=wire_body)
    assert ours.content == httpx_own.content == BODY
    assert ours.json() == httpx_own.json()
    assert ours.text == httpx_own.text
    assert ours.headers["content-type"] == httpx_own.headers["content-type"]
    assert ours.http_version == "HTTP/1.1"
    assert (ours.is_closed, ours.is_stream_consumed) == (True, True)
    assert await ours.aread() == BODY  # reading again is what it is for a read httpx response
    await ours.aclose()

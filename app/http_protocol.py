"""uvicorn's httptools protocol, with a cheaper response head: one check, and one write.

Before writing a response head, uvicorn searches each header's name and value with a regex: a
chat reply carries fifteen headers, and the thirty searches were 2% of a served request's
instructions. Both regexes match single bytes, so translating all the names joined (and all the
values joined) through a table of the bytes they match refuses exactly what uvicorn refuses, for
a fraction of the work: a served miss -1.3% instructions, a stream -0.6% (docs/benchmarks.md).

uvicorn also writes the head and the body in two socket writes. Here the head is held and leaves
with the first body message in one vectored write (a loopback write costs the kernel ~5 us, about
1% of a served request): the whole body when it has a Content-Length, the first part of a chunked
one (as Go's net/http holds a head until the first write). The chat route sends a stream's first
events right after its head, and a stream that came in one read (a cache hit, a short answer)
leaves in a single write. A body sent in parts otherwise goes out as before.

The rest is uvicorn's own code (pinned 0.54): `_start` is its response-head branch of `send`,
`_complete` its end of a response, `on_headers_complete` its own but for the cycle's class.
tests/unit/test_http_protocol.py feeds both servers the same requests and responses and checks
that they write the same bytes.
"""

from __future__ import annotations

import asyncio
import re
import urllib.parse
from typing import Any

import httptools
from uvicorn._types import ASGISendEvent, HTTPResponseStartEvent
from uvicorn.protocols.http import httptools_impl
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import HEADER_RE, HEADER_VALUE_RE, STATUS_LINE


def _marking(refused: re.Pattern[bytes]) -> bytes:
    """A `bytes.translate` table marking with `_REFUSED` each byte that `refused` matches."""
    return bytes(_REFUSED[0] if refused.match(bytes([byte])) else 1 for byte in range(256))


_REFUSED = b"\x00"
_NAME_BYTES = _marking(HEADER_RE)
_VALUE_BYTES = _marking(HEADER_VALUE_RE)


class OnePassCycle(httptools_impl.RequestResponseCycle):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The head of a response with a body, waiting to leave with its first body message.
        self._held_head: bytes | None = None

    async def send(self, message: ASGISendEvent) -> None:
        if (head := self._held_head) is not None:
            self._held_head = None
            await self._send_with_head(head, message)
        elif (
            message["type"] != "http.response.start"
            or self.response_started
            or self.disconnected
            or self.flow.write_paused
            or self.access_log
        ):
            # uvicorn's path for the rest: bodies, a paused or closed connection, the access log
            await super().send(message)
        else:
            self._start(message)

    async def _send_with_head(self, head: bytes, message: ASGISendEvent) -> None:
        """The held head goes out in the same write as the first part of a chunked body, or as
        a whole body (uvloop's writelines is one vectored write), else just before uvicorn
        sends the message."""
        if self.disconnected:
            return
        body = message.get("body", b"") if message["type"] == "http.response.body" else None
        if body is None or self.flow.write_paused:
            self.transport.write(head)
            await super().send(message)
            return
        more = message.get("more_body", False)
        if self.chunked_encoding:
            # uvicorn's chunk framing
            part = [b"%x\r\n" % len(body), body, b"\r\n"] if body else []
            self.transport.writelines([head, *part, *([] if more else [b"0\r\n\r\n"])])
        elif not more and len(body) == self.expected_content_length:
            self.transport.writelines([head, body])
        else:
            self.transport.write(head)
            await super().send(message)
            return
        if not more:
            self._complete()

    def _complete(self) -> None:
        # uvicorn's end of a response
        self.expected_content_length = 0
        self.response_complete = True
        self.message_event.set()
        if not self.keep_alive:
            self.transport.close()
        self.on_response()

    def _start(self, message: HTTPResponseStartEvent) -> None:
        self.response_started = True
        self.waiting_for_100_continue = False
        status_code = message["status"]
        headers = self.default_headers + list(message.get("headers", []))
        if _REFUSED in b"".join([name for name, _ in headers]).translate(_NAME_BYTES):
            raise RuntimeError("Invalid HTTP header name.")
        if _REFUSED in b"".join([value for _, value in headers]).translate(_VALUE_BYTES):
            raise RuntimeError("Invalid HTTP header value.")

        content = [STATUS_LINE[status_code]]
        has_connection_close = False
        for name, value in headers:
            name = name.lower()
            if name == b"content-length" and self.chunked_encoding is None:
                self.expected_content_length = int(value.decode())
                self.chunked_encoding = False
            elif name == b"transfer-encoding" and value.lower() == b"chunked":
                self.expected_content_length = 0
                self.chunked_encoding = True
            elif name == b"connection":
                connection = [token.lower().strip() for token in value.split(b",")]
                if b"close" in connection:
                    self.keep_alive = False
                    has_connection_close = True
            content.extend([name, b": ", value, b"\r\n"])

        if not self.keep_alive and not has_connection_close:
            content.append(b"connection: close\r\n")
        head_only = self.scope["method"] == "HEAD"
        if self.chunked_encoding is None and not head_only and status_code not in (204, 304):
            # Neither content-length nor transfer-encoding specified
            self.chunked_encoding = True
            content.append(b"transfer-encoding: chunked\r\n")
        content.append(b"\r\n")
        head = b"".join(content)
        if not head_only and (self.chunked_encoding or self.expected_content_length):
            self._held_head = head
        else:
            self.transport.write(head)


class HttpToolsProtocol(httptools_impl.HttpToolsProtocol):
    """Serves each request with a `OnePassCycle` (`uvicorn.run(http=...)` takes this class)."""

    def on_headers_complete(self) -> None:
        # uvicorn's own, but for the cycle's class (assigning `__class__` afterwards made every
        # attribute read of the cycle slower than the checks it saved).
        http_version = self.parser.get_http_version()
        method = self.parser.get_method()
        self.scope["method"] = method.decode("ascii")
        if http_version != "1.1":
            self.scope["http_version"] = http_version
        if self.parser.should_upgrade() and self._should_upgrade():
            return
        parsed_url = httptools.parse_url(self.url)
        raw_path = parsed_url.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = urllib.parse.unquote(path)
        self.scope["path"] = self.root_path + path
        self.scope["raw_path"] = self.root_path.encode("ascii") + raw_path
        self.scope["query_string"] = parsed_url.query or b""

        if self.limit_concurrency is not None and (
            len(self.connections) >= self.limit_concurrency
            or len(self.tasks) >= self.limit_concurrency
        ):
            app = service_unavailable
            self.logger.warning("Exceeded concurrency limit.")
        else:
            app = self.app

        existing_cycle = self.cycle
        self.cycle = OnePassCycle(
            scope=self.scope,
            transport=self.transport,
            flow=self.flow,
            logger=self.logger,
            access_logger=self.access_logger,
            access_log=self.access_log,
            default_headers=self.server_state.default_headers,
            message_event=asyncio.Event(),
            expect_100_continue=self.expect_100_continue,
            keep_alive=http_version != "1.0" and self.parser.should_keep_alive(),
            on_response=self.on_response_complete,
        )
        if existing_cycle is None or existing_cycle.response_complete:
            self._start_asgi_task(self.cycle, app)
        else:  # a pipelined request waits for the one before it
            self.flow.pause_reading()
            self.pipeline.appendleft((self.cycle, app))

"""RequestRecord: what one HTTP request's metrics need from deep inside the chat path.

The HTTP middleware opens a record per request in a context variable; the executor adds the time
it spends awaiting upstreams, and the chat observer names the route and the answering model.
Outside a request (unit tests, tools) there is no record and the helpers only pass through.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from contextvars import ContextVar, Token
from time import perf_counter
from typing import TypeVar

T = TypeVar("T")


class RequestRecord:
    __slots__ = ("model", "route", "upstream_wait_s")

    def __init__(self) -> None:
        self.upstream_wait_s = 0.0  # awaiting upstream replies, stream events and retry pauses
        self.route: str | None = None
        self.model: str | None = None


_current: ContextVar[RequestRecord | None] = ContextVar("tiergate_request_record", default=None)


def open_record() -> tuple[RequestRecord, Token[RequestRecord | None]]:
    record = RequestRecord()
    return record, _current.set(record)


def close_record(token: Token[RequestRecord | None]) -> None:
    _current.reset(token)


def current_record() -> RequestRecord | None:
    return _current.get()


async def awaiting_upstream(awaitable: Awaitable[T]) -> T:
    """Await `awaitable`, counting the wait as upstream time rather than gateway overhead."""
    record = _current.get()
    started = perf_counter()
    try:
        return await awaitable
    finally:
        if record is not None:
            record.upstream_wait_s += perf_counter() - started


async def upstream_events(events: AsyncIterator[T]) -> AsyncIterator[T]:
    """`events`, with the time spent waiting for each one counted as upstream time.

    The record is taken when the stream is opened, whichever task later relays the body.
    """
    record = _current.get()
    if record is None:
        async for payload in events:
            yield payload
        return
    while True:
        started = perf_counter()
        try:
            payload = await anext(events)
        except StopAsyncIteration:
            return
        finally:
            record.upstream_wait_s += perf_counter() - started
        yield payload

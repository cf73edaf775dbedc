"""The chat route's stream relay: it ends with the events, on a hang-up, or on an outside cancel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import pytest

from app import sse
from app.chat_route import _send_stream


class _Client:
    """An ASGI client that has sent its request and may hang up."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.receives = 0
        self._left = asyncio.Event()

    def hang_up(self) -> None:
        self._left.set()

    async def receive(self) -> dict[str, Any]:
        self.receives += 1
        await self._left.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def bodies(self) -> list[bytes]:
        return [m["body"] for m in self.sent if m["type"] == "http.response.body"]


class _Events:
    """Upstream events: a few at once, then as many as `more` allows."""

    def __init__(self, first: int) -> None:
        self.first = first
        self.more = asyncio.Event()
        self.closed = False

    async def stream(self) -> AsyncGenerator[bytes, None]:
        try:
            for n in range(self.first):
                yield b"event %d" % n
            await self.more.wait()
            yield b"last"
        finally:
            self.closed = True


async def _relay(client: _Client, events: _Events) -> None:
    await _send_stream(events.stream(), [], client.receive, client.send)  # type: ignore[arg-type]


async def test_the_events_are_relayed_and_the_body_ended() -> None:
    client, events = _Client(), _Events(first=2)
    events.more.set()
    await _relay(client, events)
    assert client.bodies() == [b"event 0", b"event 1", b"last", b""]
    assert events.closed


async def test_done_ends_the_body_in_the_same_write() -> None:
    client = _Client()

    async def events() -> AsyncGenerator[bytes, None]:
        yield b"data: {}\n\n"
        yield sse.DONE

    await _send_stream(events(), [], client.receive, client.send)  # type: ignore[arg-type]
    bodies = [m for m in client.sent if m["type"] == "http.response.body"]
    assert [(m["body"], m["more_body"]) for m in bodies] == [
        (b"data: {}\n\n", True),
        (sse.DONE, False),  # no empty message after it: one write fewer per stream
    ]


async def test_a_stream_whose_first_write_ends_it_needs_no_hang_up_watcher() -> None:
    client = _Client()

    async def events() -> AsyncGenerator[bytes, None]:
        yield b"data: {}\n\n" + sse.DONE  # a replayed answer, or a stream read in one go

    await _send_stream(events(), [], client.receive, client.send)  # type: ignore[arg-type]
    assert client.bodies() == [b"data: {}\n\n" + sse.DONE]
    assert client.receives == 0  # nothing waited for a hang-up: there was nothing to wait for


async def test_a_hang_up_stops_the_relay_and_closes_the_events() -> None:
    client, events = _Client(), _Events(first=2)
    relay = asyncio.ensure_future(_relay(client, events))
    await asyncio.sleep(0.01)
    client.hang_up()
    await asyncio.wait_for(relay, timeout=2)  # returns: the hang-up is not an error
    assert client.bodies() == [b"event 0", b"event 1"]  # no end of body for a gone client
    assert events.closed
    assert not relay.cancelled() and relay.cancelling() == 0  # the watcher's cancel is undone


async def test_a_cancel_from_outside_still_cancels() -> None:
    client, events = _Client(), _Events(first=1)
    relay = asyncio.ensure_future(_relay(client, events))
    await asyncio.sleep(0.01)
    relay.cancel()
    with pytest.raises(asyncio.CancelledError):
        await relay
    assert events.closed

"""Sending a simulated SSE stream over ASGI: pacing, mid-stream cuts, client disconnects."""

from __future__ import annotations

import asyncio

from adapters.simulator.asgi import Receive, Scope, Send, wait_for_disconnect
from adapters.simulator.outcomes import StreamReply
from adapters.simulator.stats import SimulatorStats
from adapters.simulator.transport import close_connection

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
_DONE = b"data: [DONE]\n\n"


async def send_stream(
    reply: StreamReply, scope: Scope, receive: Receive, send: Send, stats: SimulatorStats
) -> None:
    stats.streams_opened += 1
    stats.record_status(200)
    events = [b"data: " + chunk + b"\n\n" for chunk in reply.chunks]
    if reply.ttft_s <= 0.0 and not reply.gaps_s:
        await _send_at_once(events, reply.cut_after, scope, receive, send, stats)
        return
    gone = asyncio.ensure_future(wait_for_disconnect(receive))
    try:
        if await _client_left(gone, reply.ttft_s):
            stats.streams_client_closed += 1
            return
        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
        for index, event in enumerate(events):
            pause = reply.gaps_s[index - 1] if index and reply.gaps_s else 0.0
            if await _client_left(gone, pause):
                stats.streams_client_closed += 1
                return
            if index == reply.cut_after:
                stats.record_cut()
                close_connection(scope, reset=False)
                await gone
                return
            await send({"type": "http.response.body", "body": event, "more_body": True})
        await send({"type": "http.response.body", "body": _DONE})
        stats.streams_completed += 1
    finally:
        gone.cancel()


async def _send_at_once(
    events: list[bytes],
    cut_after: int | None,
    scope: Scope,
    receive: Receive,
    send: Send,
    stats: SimulatorStats,
) -> None:
    """No latency: every event in one write (no sleeps, no per-chunk awaits)."""
    await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
    if cut_after is None:
        await send({"type": "http.response.body", "body": b"".join(events) + _DONE})
        stats.streams_completed += 1
        return
    stats.record_cut()
    prefix = b"".join(events[:cut_after])
    await send({"type": "http.response.body", "body": prefix, "more_body": True})
    close_connection(scope, reset=False)
    await wait_for_disconnect(receive)


async def _client_left(gone: asyncio.Future[None], pause: float) -> bool:
    """Wait `pause` seconds (not at all when 0); True if the client disconnected."""
    if pause > 0.0:
        await asyncio.wait((gone,), timeout=pause)
    return gone.done()

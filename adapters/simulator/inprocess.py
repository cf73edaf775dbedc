"""The simulator as an in-process `ChatUpstream`: no sockets, faults as domain errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from adapters.simulator.core import SimulatorCore
from adapters.simulator.faults import FaultKind
from adapters.simulator.outcomes import Disruption, Failure, Reply, StreamReply
from domain.errors import UpstreamConnectionError, UpstreamHTTPError, UpstreamTimeout
from domain.ports import UpstreamCall, UpstreamReply


class SimulatedStream:
    """An open simulated SSE stream; `events` paces the chunks as the latency model says."""

    def __init__(self, reply: StreamReply, *, upstream: str, timeout_s: float) -> None:
        self.upstream = upstream
        self.ended = False
        self._reply = reply
        self._timeout_s = timeout_s
        self._closed = False

    async def events(self) -> AsyncIterator[list[bytes]]:
        reply = self._reply
        last = len(reply.chunks) - 1
        for index, chunk in enumerate(reply.chunks):
            if self._closed:
                return
            if index and reply.gaps_s:
                await _pause(reply.gaps_s[index - 1], self._timeout_s, self.upstream)
            if index == reply.cut_after:
                raise UpstreamConnectionError(
                    "simulated upstream closed the stream mid-way", upstream=self.upstream
                )
            self.ended = index == last
            yield [chunk]  # paced one by one, as tokens arrive from a real model

    async def aclose(self) -> None:
        self._closed = True


class SimulatedChatUpstream:
    """`domain.ports.ChatUpstream` on a `SimulatorCore`, named `name` for fault lookup."""

    def __init__(self, core: SimulatorCore, *, name: str = "simulated") -> None:
        self.core = core
        self.name = name

    async def complete(self, call: UpstreamCall) -> UpstreamReply:
        outcome = self.core.chat(call.body, upstream=self.name, stream=False)
        if isinstance(outcome, StreamReply):
            raise TypeError("the simulator answered a non-stream call with a stream")
        return await self._settle(outcome, call)

    async def open_stream(self, call: UpstreamCall) -> SimulatedStream:
        outcome = self.core.chat(call.body, upstream=self.name, stream=True)
        if not isinstance(outcome, StreamReply):
            await self._settle(outcome, call)
            raise TypeError("the simulator answered a stream call with a plain body")
        await _pause(outcome.ttft_s, call.timeout_s, self.name)
        return SimulatedStream(outcome, upstream=self.name, timeout_s=call.timeout_s)

    async def embed(self, call: UpstreamCall) -> UpstreamReply:
        return await self._settle(self.core.embed(call.body, upstream=self.name), call)

    async def _settle(
        self, outcome: Reply | Failure | Disruption, call: UpstreamCall
    ) -> UpstreamReply:
        if isinstance(outcome, Disruption):
            if outcome.kind is FaultKind.HANG:
                await asyncio.sleep(call.timeout_s)
                raise UpstreamTimeout("simulated upstream never answered", upstream=self.name)
            raise UpstreamConnectionError(
                f"simulated upstream {self.name} dropped the connection ({outcome.kind})",
                upstream=self.name,
            )
        await _pause(outcome.delay_s, call.timeout_s, self.name)
        if isinstance(outcome, Failure):
            raise UpstreamHTTPError(
                outcome.message,
                status=outcome.status,
                retry_after_s=outcome.retry_after_s,
                upstream=self.name,
                upstream_code=outcome.code,
                param=outcome.param,
            )
        if outcome.cut:
            raise UpstreamConnectionError(
                "simulated upstream closed the connection mid-body", upstream=self.name
            )
        return UpstreamReply(body=outcome.body, upstream=self.name)


async def _pause(delay_s: float, timeout_s: float, upstream: str) -> None:
    """Sleep `delay_s`; if that exceeds `timeout_s`, sleep only that long and time out."""
    if delay_s <= 0.0:
        return
    if delay_s >= timeout_s:
        await asyncio.sleep(timeout_s)
        raise UpstreamTimeout(
            f"simulated upstream took longer than {timeout_s}s", upstream=upstream
        )
    await asyncio.sleep(delay_s)

"""Ports: the interfaces the use cases need from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class UpstreamCall:
    """One attempt against an upstream: a ready-to-send OpenAI JSON body for one model."""

    model: str
    body: bytes
    timeout_s: float
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class UpstreamReply:
    """A successful non-streaming answer: the upstream's JSON body, untouched."""

    body: bytes
    upstream: str


class UpstreamStream(Protocol):
    """An open SSE stream. `events` yields each `data:` payload until `[DONE]` (excluded)."""

    upstream: str

    def events(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


class ChatUpstream(Protocol):
    """An OpenAI-compatible chat completions endpoint.

    Implementations raise `domain.errors.UpstreamError` subclasses for every failure, and
    `open_stream` raises before returning when the upstream refuses the request, so that
    connection and status errors surface before any byte reaches the client.
    """

    async def complete(self, call: UpstreamCall) -> UpstreamReply: ...

    async def open_stream(self, call: UpstreamCall) -> UpstreamStream: ...

    async def embed(self, call: UpstreamCall) -> UpstreamReply: ...


class BreakerRegistry(Protocol):
    """Circuit breakers per (upstream, model).

    `admits` answers whether a call may start now (closed, or half-open with no probe in
    flight); `guard` wraps one attempt and records its outcome. Cancellation and client
    disconnects never count as failures.
    """

    def admits(self, upstream: str, model: str) -> bool: ...

    def guard(self, upstream: str, model: str) -> AbstractAsyncContextManager[None]: ...

    def states(self) -> dict[tuple[str, str], str]: ...

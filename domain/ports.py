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

    def with_timeout(self, timeout_s: float) -> UpstreamCall:
        """The same call with another time budget (`dataclasses.replace` cost twice this)."""
        return UpstreamCall(self.model, self.body, timeout_s, self.headers)


@dataclass(frozen=True, slots=True)
class UpstreamReply:
    """A successful non-streaming answer: the upstream's JSON body, untouched."""

    body: bytes
    upstream: str


class UpstreamStream(Protocol):
    """An open SSE stream. `events` yields the `data:` payloads until `[DONE]` (excluded), in
    batches of those that arrived together (never empty), so that a relay can pass them on in
    one write. `ended` turns true when `[DONE]` is read, before the batch it came with is
    yielded: that batch is the last, and a relay can send it with its own end."""

    upstream: str
    ended: bool

    def events(self) -> AsyncIterator[list[bytes]]: ...

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


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """A stored upstream answer: the `chat.completion` JSON as received, and where it came from."""

    body: bytes
    model: str
    route: str
    tier: str
    stored_at: float  # epoch seconds, passed in by the caller
    input_tokens: int = 0
    output_tokens: int = 0


class ResponseCache(Protocol):
    """Exact-match answers by cache key, shared by streaming and non-streaming requests.

    Never raises and never waits long: a backend failure or timeout reads as a miss and
    makes `set` a no-op (fail open); the cache is used again as soon as the backend answers.
    """

    async def get(self, key: str) -> CachedAnswer | None: ...

    async def set(self, key: str, answer: CachedAnswer, ttl_s: float) -> None: ...


@dataclass(frozen=True, slots=True)
class SemanticMatch:
    """The nearest stored prompt: the exact cache key of its answer, and how close it is."""

    key: str
    similarity: float


class SemanticIndex(Protocol):
    """Prompt vectors by scope (`SemanticScope.id`), pointing at exact cache keys.

    Entries expire after `ttl_s` (times are epoch seconds passed in); `nearest` answers the
    closest live entry with cosine similarity >= `threshold`. Fails open like `ResponseCache`.
    """

    async def add(
        self, scope: str, vector: tuple[float, ...], key: str, *, ttl_s: float, now: float
    ) -> None: ...

    async def nearest(
        self, scope: str, vector: tuple[float, ...], *, threshold: float, now: float
    ) -> SemanticMatch | None: ...


@dataclass(frozen=True, slots=True)
class Embedding:
    vector: tuple[float, ...]
    model: str
    input_tokens: int  # for cost accounting


class Embedder(Protocol):
    """Text to vector for the semantic cache; None when embedding failed or took too long."""

    async def embed(self, text: str) -> Embedding | None: ...

"""Hand-written fakes for the ports: they record what happened and can be scripted."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from domain.errors import UpstreamConnectionError
from domain.ports import UpstreamCall, UpstreamReply


@dataclass(frozen=True, slots=True)
class RecordedCall:
    method: str  # complete | open_stream | embed
    call: UpstreamCall

    @property
    def model(self) -> str:
        return self.call.model


class FakeStream:
    """An `UpstreamStream` over fixed `data:` payloads, optionally failing after them. They
    arrive one by one, or with `together` all in one batch (as from one network read); `[DONE]`
    comes in the same read as the last, or with `done_apart` in a read of its own."""

    def __init__(
        self,
        events: Sequence[bytes],
        *,
        upstream: str = "fake",
        fail_with: BaseException | None = None,
        together: bool = False,
        done_apart: bool = False,
    ) -> None:
        self.upstream = upstream
        self.payloads = list(events)
        self.fail_with = fail_with
        self.together = together
        self.done_apart = done_apart
        self.closed = False
        self.ended = False

    async def events(self) -> AsyncIterator[list[bytes]]:
        batches = [self.payloads] if self.together else [[p] for p in self.payloads]
        for number, batch in enumerate(batches, start=1):
            await asyncio.sleep(0)
            last = number == len(batches)
            self.ended = last and self.fail_with is None and not self.done_apart
            yield batch
        if self.fail_with is not None:
            raise self.fail_with
        self.ended = True

    async def aclose(self) -> None:
        self.closed = True


Outcome = BaseException | bytes | FakeStream
"""A scripted result: an exception to raise, a reply body, or a stream for `open_stream`."""


class FakeUpstream:
    """A `ChatUpstream` that answers from a script, then with a plausible default.

    Every call is recorded in `.calls` before anything else happens. Set `gate` to hold calls
    until the test releases them, or `latency_s` to make them slow.
    """

    def __init__(
        self,
        name: str = "fake",
        *,
        script: Iterable[Outcome] = (),
        gate: asyncio.Event | None = None,
        latency_s: float = 0.0,
    ) -> None:
        self.name = name
        self.calls: list[RecordedCall] = []
        self.gate = gate
        self.latency_s = latency_s
        self._script: deque[Outcome] = deque(script)

    def then(self, *outcomes: Outcome) -> FakeUpstream:
        self._script.extend(outcomes)
        return self

    @property
    def models(self) -> list[str]:
        return [recorded.model for recorded in self.calls]

    async def complete(self, call: UpstreamCall) -> UpstreamReply:
        outcome = await self._next("complete", call)
        body = outcome if isinstance(outcome, bytes) else completion_body(call.model)
        return UpstreamReply(body=body, upstream=self.name)

    async def embed(self, call: UpstreamCall) -> UpstreamReply:
        outcome = await self._next("embed", call)
        body = outcome if isinstance(outcome, bytes) else embedding_body(call.model)
        return UpstreamReply(body=body, upstream=self.name)

    async def open_stream(self, call: UpstreamCall) -> FakeStream:
        outcome = await self._next("open_stream", call)
        if isinstance(outcome, FakeStream):
            return outcome
        return FakeStream(stream_payloads(call.model), upstream=self.name)

    async def _next(self, method: str, call: UpstreamCall) -> Outcome | None:
        self.calls.append(RecordedCall(method, call))
        outcome = self._script.popleft() if self._script else None
        if self.gate is not None:
            await self.gate.wait()
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


class FakeBreakers:
    """A `BreakerRegistry` whose open circuits the test chooses; records every guarded outcome."""

    def __init__(self, *, open_circuits: Iterable[tuple[str, str]] = ()) -> None:
        self.open = set(open_circuits)
        self.outcomes: list[tuple[str, str, str]] = []  # (upstream, model, "ok" | error class)

    def admits(self, upstream: str, model: str) -> bool:
        return (upstream, model) not in self.open

    @asynccontextmanager
    async def guard(self, upstream: str, model: str) -> AsyncIterator[None]:
        if (upstream, model) in self.open:
            raise UpstreamConnectionError("circuit open", upstream=upstream)
        try:
            yield
        except BaseException as exc:
            self.outcomes.append((upstream, model, type(exc).__name__))
            raise
        self.outcomes.append((upstream, model, "ok"))

    def states(self) -> dict[tuple[str, str], str]:
        return dict.fromkeys(self.open, "open")


class FakeClock:
    """A monotonic clock that only moves when the test says so."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def completion_body(model: str, content: str = "ok") -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
        }
    ).encode()


def embedding_body(model: str, dimensions: int = 4) -> bytes:
    return json.dumps(
        {
            "object": "list",
            "model": model,
            "data": [{"object": "embedding", "index": 0, "embedding": [0.5] * dimensions}],
            "usage": {"prompt_tokens": 3, "total_tokens": 3},
        }
    ).encode()


def stream_payloads(model: str, content: str = "ok") -> list[bytes]:
    def chunk(delta: dict[str, str], finish: str | None) -> dict[str, object]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    usage = {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}
    return [
        json.dumps(chunk({"role": "assistant", "content": content}, None)).encode(),
        json.dumps(chunk({}, "stop")).encode(),
        json.dumps({**chunk({}, None), "choices": [], "usage": usage}).encode(),
    ]

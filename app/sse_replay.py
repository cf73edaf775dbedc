"""Replaying a whole completion as SSE chunks (cascade answers on streams, and cache hits)."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from app import sse
from domain.pricing import Cost

_encoder = msgspec.json.Encoder()


class _Choice(msgspec.Struct):
    index: int = 0
    message: dict[str, msgspec.Raw] = {}
    finish_reason: str | None = None


class _Completion(msgspec.Struct):
    id: str = "chatcmpl-replay"
    created: int = 0
    model: str = ""
    choices: list[_Choice] = []
    usage: dict[str, msgspec.Raw] | None = None
    system_fingerprint: str | None = None


_decoder = msgspec.json.Decoder(_Completion)


def replay_as_sse(body: bytes, *, include_usage: bool, cost: Cost) -> bytes:
    """The whole stream, [DONE] included, framed: it leaves in one write."""
    return b"".join(_replayed_events(body, include_usage=include_usage, cost=cost))


def _replayed_events(body: bytes, *, include_usage: bool, cost: Cost) -> Iterator[bytes]:
    completion = _decoder.decode(body)
    head = {
        "id": completion.id,
        "object": "chat.completion.chunk",
        "created": completion.created,
        "model": completion.model,
        "system_fingerprint": completion.system_fingerprint,
    }
    for choice in completion.choices:
        delta = {"index": choice.index, "delta": choice.message, "finish_reason": None}
        yield sse.event(_encoder.encode({**head, "choices": [delta]}))
        done = {"index": choice.index, "delta": {}, "finish_reason": choice.finish_reason}
        yield sse.event(_encoder.encode({**head, "choices": [done]}))
    if include_usage and completion.usage is not None:
        usage_chunk = _encoder.encode({**head, "choices": [], "usage": completion.usage})
        yield sse.event(sse.with_cost(usage_chunk, cost))
    yield sse.DONE

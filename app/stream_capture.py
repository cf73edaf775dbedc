"""Rebuilding a streamed answer as a `chat.completion` body, so a completed stream can be cached."""

from __future__ import annotations

import msgspec

_encoder = msgspec.json.Encoder()


class _Delta(msgspec.Struct):
    content: str | None = None
    tool_calls: list[msgspec.Raw] | None = None
    function_call: dict[str, msgspec.Raw] | None = None


class _Choice(msgspec.Struct):
    index: int = 0
    delta: _Delta | None = None
    finish_reason: str | None = None


class _Chunk(msgspec.Struct):
    id: str = ""
    created: int = 0
    model: str = ""
    system_fingerprint: str | None = None
    choices: list[_Choice] = []
    usage: dict[str, msgspec.Raw] | None = None


_chunk_decoder = msgspec.json.Decoder(_Chunk)


class StreamCapture:
    """Collects a single-choice, text-only stream; anything else is not rebuilt (not cached)."""

    def __init__(self) -> None:
        self._head: _Chunk | None = None
        self._text: list[str] = []
        self._finish: str | None = None
        self._usage: dict[str, msgspec.Raw] | None = None
        self._rebuildable = True

    def add(self, payload: bytes) -> None:
        if not self._rebuildable:
            return
        try:
            chunk = _chunk_decoder.decode(payload)
        except msgspec.DecodeError:
            self._rebuildable = False
            return
        self._head = self._head or chunk
        if chunk.usage is not None:
            self._usage = chunk.usage
        for choice in chunk.choices:
            delta = choice.delta
            if choice.index != 0 or (delta and (delta.tool_calls or delta.function_call)):
                self._rebuildable = False
                return
            if delta and delta.content:
                self._text.append(delta.content)
            self._finish = choice.finish_reason or self._finish

    def completion_body(self) -> bytes | None:
        head = self._head
        if not self._rebuildable or head is None or self._finish is None:
            return None
        message = {"role": "assistant", "content": "".join(self._text)}
        return _encoder.encode(
            {
                "id": head.id,
                "object": "chat.completion",
                "created": head.created,
                "model": head.model,
                "system_fingerprint": head.system_fingerprint,
                "choices": [{"index": 0, "message": message, "finish_reason": self._finish}],
                "usage": self._usage,
            }
        )

"""Reading upstream answers (whole or chunked) into the domain's CompletionSummary."""

from __future__ import annotations

import msgspec

from app.schemas import ChunkView, CompletionView, UsageView
from domain.completion import CompletionSummary
from domain.errors import UpstreamError
from domain.pricing import Usage

DecodedChunk = tuple[bytes, ChunkView]  # a stream chunk as it came, and what it says

_completion_decoder = msgspec.json.Decoder(CompletionView)
_chunk_decoder = msgspec.json.Decoder(ChunkView)


def summarize_completion(body: bytes) -> CompletionSummary:
    try:
        view = _completion_decoder.decode(body)
    except msgspec.DecodeError:
        raise UpstreamError("The upstream returned a malformed completion.") from None
    text_parts: list[str] = []
    has_tool_call = False
    finish_reason: str | None = None
    for choice in view.choices:
        message = choice.message
        if message is not None:
            text_parts.append(message.content or "")
            has_tool_call = has_tool_call or bool(message.tool_calls) or bool(message.function_call)
        finish_reason = finish_reason or choice.finish_reason
    return CompletionSummary(
        text="".join(text_parts),
        has_tool_call=has_tool_call,
        finish_reason=finish_reason,
        usage=to_usage(view.usage),
    )


def decode_chunk(payload: bytes) -> ChunkView:
    try:
        return _chunk_decoder.decode(payload)
    except msgspec.DecodeError:
        raise UpstreamError("The upstream sent a malformed stream chunk.") from None


def to_usage(view: UsageView | None) -> Usage:
    if view is None:
        return Usage()
    return Usage(input_tokens=view.prompt_tokens, output_tokens=view.completion_tokens)


class StreamTally:
    """Accumulates what a stream has shown so far: content seen, tool calls, finish, usage."""

    __slots__ = ("finish_reason", "has_content", "text_chars", "usage")

    def __init__(self) -> None:
        self.has_content = False
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.text_chars = 0

    def read(self, batch: list[bytes]) -> list[DecodedChunk]:
        """Decode a batch of chunk payloads and count each in; the pairs are for relaying."""
        chunks: list[DecodedChunk] = []
        for payload in batch:
            chunk = decode_chunk(payload)
            self.add(chunk)
            chunks.append((payload, chunk))
        return chunks

    def add(self, chunk: ChunkView) -> None:
        if chunk.usage is not None:
            self.usage = to_usage(chunk.usage)
        for choice in chunk.choices:
            delta = choice.delta
            if delta is not None:
                if delta.content:
                    self.has_content = self.has_content or bool(delta.content.strip())
                    self.text_chars += len(delta.content)
                if delta.tool_calls or delta.function_call:
                    self.has_content = True
            if choice.finish_reason:
                self.finish_reason = choice.finish_reason

"""Generated choices rendered as OpenAI `chat.completion` bodies and `chunk` payloads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, pairwise, zip_longest

from msgspec import UNSET, UnsetType

from adapters.simulator.generation import Generated
from adapters.simulator.wire import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    Delta,
    FunctionCall,
    ToolCall,
    Usage,
    encoder,
)

_PIECES_PER_CHUNK = 3


@dataclass(frozen=True, slots=True)
class Envelope:
    completion_id: str
    created: int
    model: str
    prompt_tokens: int

    def usage(self, choices: Sequence[Generated]) -> Usage:
        completion = sum(c.completion_tokens for c in choices)
        return Usage(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=completion,
            total_tokens=self.prompt_tokens + completion,
        )


def completion_body(envelope: Envelope, choices: Sequence[Generated]) -> bytes:
    rendered = [
        Choice(index=i, message=_message(c), finish_reason=c.finish_reason)
        for i, c in enumerate(choices)
    ]
    return encoder.encode(
        ChatCompletion(
            id=envelope.completion_id,
            created=envelope.created,
            model=envelope.model,
            choices=rendered,
            usage=envelope.usage(choices),
        )
    )


def stream_payloads(
    envelope: Envelope,
    choices: Sequence[Generated],
    *,
    include_usage: bool,
    content_chunks: int | None,
) -> tuple[list[bytes], list[float]]:
    """Every `data:` payload in order, and the tokens each one carries (for pacing)."""
    per_choice = [_choice_deltas(i, c, content_chunks) for i, c in enumerate(choices)]
    ordered = [d for d in chain.from_iterable(zip_longest(*per_choice)) if d is not None]
    # OpenAI sends `"usage": null` on every chunk only when usage was asked for.
    usage_field: Usage | UnsetType | None = None if include_usage else UNSET
    payloads = [
        encoder.encode(
            ChatCompletionChunk(
                id=envelope.completion_id,
                created=envelope.created,
                model=envelope.model,
                choices=[choice],
                usage=usage_field,
            )
        )
        for choice, _ in ordered
    ]
    tokens = [t for _, t in ordered]
    if include_usage:
        final = ChatCompletionChunk(
            id=envelope.completion_id,
            created=envelope.created,
            model=envelope.model,
            choices=[],
            usage=envelope.usage(choices),
        )
        payloads.append(encoder.encode(final))
        tokens.append(0.0)
    return payloads, tokens


def _message(choice: Generated) -> AssistantMessage:
    if choice.tool is not None:
        call = ToolCall(
            id=choice.tool.call_id,
            type="function",
            function=FunctionCall(name=choice.tool.name, arguments=choice.text),
        )
        return AssistantMessage(content=None, tool_calls=[call])
    if choice.reasoning:
        return AssistantMessage(content=None, reasoning_content="".join(choice.reasoning))
    return AssistantMessage(content=choice.text)


def _choice_deltas(
    index: int, choice: Generated, content_chunks: int | None
) -> list[tuple[ChunkChoice, float]]:
    tool = choice.tool
    if tool is not None:
        opening = ToolCall(
            index=0,
            id=tool.call_id,
            type="function",
            function=FunctionCall(name=tool.name, arguments=""),
        )
        first = Delta(role="assistant", content=None, refusal=None, tool_calls=[opening])
    else:
        first = Delta(role="assistant", content="", refusal=None)
    deltas = [(ChunkChoice(index=index, delta=first), 0.0)]
    for text, tokens in _groups(choice.reasoning, content_chunks):
        deltas.append((ChunkChoice(index=index, delta=Delta(reasoning_content=text)), tokens))
    for text, tokens in _groups(choice.pieces, content_chunks):
        if tool is not None:
            part = ToolCall(index=0, function=FunctionCall(arguments=text))
            delta = Delta(tool_calls=[part])
        else:
            delta = Delta(content=text)
        deltas.append((ChunkChoice(index=index, delta=delta), tokens))
    deltas.append((ChunkChoice(index=index, delta=Delta(), finish_reason=choice.finish_reason), 0))
    return deltas


def _groups(pieces: Sequence[str], count: int | None) -> list[tuple[str, float]]:
    """Pieces joined into `count` chunks (or a few tokens each when `count` is None)."""
    if not pieces:
        return []
    if count is None:
        step = _PIECES_PER_CHUNK
        return [
            ("".join(pieces[i : i + step]), float(len(pieces[i : i + step])))
            for i in range(0, len(pieces), step)
        ]
    if len(pieces) >= count:
        bounds = [len(pieces) * k // count for k in range(count + 1)]
        return [("".join(pieces[a:b]), float(b - a)) for a, b in pairwise(bounds)]
    text = "".join(pieces)
    bounds = [len(text) * k // count for k in range(count + 1)]
    share = len(pieces) / count
    return [(text[a:b], share) for a, b in pairwise(bounds) if b > a]

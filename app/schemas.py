"""OpenAI-compatible wire Structs: a typed view of what the gateway reads; the rest travels raw.

All are `gc=False`: decoded from JSON, they hold only strings, numbers and each other, so they
cannot form reference cycles, and leaving them out of the cyclic collector's count means fewer
young collections (a stream decodes one ChunkView per event).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]


class ContentPart(msgspec.Struct, kw_only=True, gc=False):
    type: str
    text: str | None = None


class ChatMessage(msgspec.Struct, kw_only=True, gc=False):
    role: Role
    content: str | list[ContentPart] | None = None


class StreamOptions(msgspec.Struct, kw_only=True, gc=False):
    include_usage: bool = False


class ResponseFormat(msgspec.Struct, kw_only=True, gc=False):
    type: str


class ChatCompletionRequest(msgspec.Struct, kw_only=True, gc=False):
    """The fields the gateway interprets. Unknown fields are not dropped: see `forwarding`."""

    model: Annotated[str, Meta(min_length=1)]
    messages: Annotated[list[ChatMessage], Meta(min_length=1)]
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: Annotated[int, Meta(ge=1)] | None = None
    max_completion_tokens: Annotated[int, Meta(ge=1)] | None = None
    temperature: Annotated[float, Meta(ge=0, le=2)] | None = None
    top_p: Annotated[float, Meta(ge=0, le=1)] | None = None
    n: Annotated[int, Meta(ge=1, le=128)] | None = None
    tools: list[msgspec.Raw] | None = None
    response_format: ResponseFormat | None = None
    metadata: dict[str, str] | None = None

    @property
    def output_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def wants_usage_chunk(self) -> bool:
        return self.stream_options is not None and self.stream_options.include_usage


class UsageView(msgspec.Struct, kw_only=True, gc=False):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class ResponseMessage(msgspec.Struct, kw_only=True, gc=False):
    content: str | None = None
    tool_calls: list[msgspec.Raw] | None = None
    function_call: dict[str, msgspec.Raw] | None = None


class CompletionChoice(msgspec.Struct, kw_only=True, gc=False):
    message: ResponseMessage | None = None
    finish_reason: str | None = None


class CompletionView(msgspec.Struct, kw_only=True, gc=False):
    """What the gateway reads from an upstream `chat.completion`; the body is returned as is."""

    choices: list[CompletionChoice] = []
    usage: UsageView | None = None


class ChunkDelta(msgspec.Struct, kw_only=True, gc=False):
    content: str | None = None
    tool_calls: list[msgspec.Raw] | None = None
    function_call: dict[str, msgspec.Raw] | None = None


class ChunkChoice(msgspec.Struct, kw_only=True, gc=False):
    delta: ChunkDelta | None = None
    finish_reason: str | None = None


class ChunkView(msgspec.Struct, kw_only=True, gc=False):
    """What the gateway reads from one `chat.completion.chunk`."""

    choices: list[ChunkChoice] = []
    usage: UsageView | None = None


class UsageWithCost(msgspec.Struct, kw_only=True, gc=False):
    """The usage object of the final stream chunk, with the cost added as OpenRouter does."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: float
    cost_details: dict[str, float]


class ErrorDetail(msgspec.Struct, kw_only=True, gc=False):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorBody(msgspec.Struct, kw_only=True, gc=False):
    error: ErrorDetail

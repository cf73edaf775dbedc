"""msgspec Structs for the OpenAI-compatible JSON the simulator reads and writes."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from msgspec import UNSET, Struct, UnsetType


class ContentPart(Struct):
    type: str
    text: str | None = None


class Message(Struct):
    role: str
    content: str | list[ContentPart] | None = None
    tool_calls: list[msgspec.Raw] | None = None


class StreamOptions(Struct):
    include_usage: bool = False


class FunctionDef(Struct):
    name: str
    parameters: dict[str, Any] | None = None


class Tool(Struct):
    function: FunctionDef
    type: str = "function"


class FunctionName(Struct):
    name: str


class NamedToolChoice(Struct):
    function: FunctionName
    type: str = "function"


class JsonSchemaFormat(Struct):
    name: str = "response"
    schema: dict[str, Any] | None = None


class ResponseFormat(Struct):
    type: str
    json_schema: JsonSchemaFormat | None = None


class ChatRequest(Struct):
    model: str
    messages: list[Message]
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    n: int = 1
    stream: bool = False
    stream_options: StreamOptions | None = None
    tools: list[Tool] | None = None
    tool_choice: str | NamedToolChoice | None = None
    response_format: ResponseFormat | None = None
    temperature: float | None = None
    seed: int | None = None


class EmbeddingRequest(Struct):
    model: str
    input: str | list[str]
    encoding_format: Literal["float", "base64"] = "float"


class FunctionCall(Struct):
    name: str | UnsetType = UNSET
    arguments: str | UnsetType = UNSET


class ToolCall(Struct):
    index: int | UnsetType = UNSET
    id: str | UnsetType = UNSET
    type: str | UnsetType = UNSET
    function: FunctionCall | UnsetType = UNSET


class AssistantMessage(Struct, kw_only=True):
    role: str = "assistant"
    content: str | None
    refusal: None = None
    tool_calls: list[ToolCall] | UnsetType = UNSET
    reasoning_content: str | UnsetType = UNSET


class Usage(Struct):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Choice(Struct, kw_only=True):
    index: int
    message: AssistantMessage
    logprobs: None = None
    finish_reason: str


class ChatCompletion(Struct, kw_only=True):
    id: str
    object: str = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    system_fingerprint: str = "fp_sim"
    provider: str = "tiergate-sim"


class Delta(Struct):
    role: str | UnsetType = UNSET
    content: str | UnsetType | None = UNSET
    refusal: UnsetType | None = UNSET
    tool_calls: list[ToolCall] | UnsetType = UNSET
    reasoning_content: str | UnsetType = UNSET


class ChunkChoice(Struct, kw_only=True):
    index: int
    delta: Delta
    logprobs: None = None
    finish_reason: str | None = None


class ChatCompletionChunk(Struct, kw_only=True):
    id: str
    object: str = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    system_fingerprint: str = "fp_sim"
    provider: str = "tiergate-sim"
    usage: Usage | UnsetType | None = UNSET


class Embedding(Struct, kw_only=True):
    object: str = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingUsage(Struct):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(Struct, kw_only=True):
    object: str = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


class ErrorDetail(Struct):
    message: str
    type: str
    code: str | None = None
    param: str | None = None


class ErrorBody(Struct):
    error: ErrorDetail


encoder = msgspec.json.Encoder()
chat_request_decoder = msgspec.json.Decoder(ChatRequest)
embedding_request_decoder = msgspec.json.Decoder(EmbeddingRequest)

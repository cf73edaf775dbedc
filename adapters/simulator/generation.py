"""What the simulated model says: prose, JSON, or a tool call, cut at the token limit."""

from __future__ import annotations

import random
from dataclasses import dataclass

import msgspec

from adapters.simulator.structured import invent_json
from adapters.simulator.text import split_pieces, topic_words, write_prose
from adapters.simulator.wire import ChatRequest, NamedToolChoice, Tool


@dataclass(frozen=True, slots=True)
class ToolInvocation:
    call_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Generated:
    """One choice. `pieces` are the tokens of the content (or of the tool-call arguments)."""

    pieces: tuple[str, ...]
    finish_reason: str
    tool: ToolInvocation | None = None
    reasoning: tuple[str, ...] = ()

    @property
    def completion_tokens(self) -> int:
        return len(self.pieces) + len(self.reasoning)

    @property
    def text(self) -> str:
        return "".join(self.pieces)


def generate(
    request: ChatRequest, rng: random.Random, *, limit: int, reply_tokens: tuple[int, int]
) -> Generated:
    topics = topic_words(request.messages)
    tool = _forced_tool(request, rng)
    if tool is not None:
        parameters = tool.function.parameters
        arguments = msgspec.json.encode(invent_json(parameters, rng, topics)).decode()
        call_id = f"call_{rng.getrandbits(96):024x}"
        invocation = ToolInvocation(call_id=call_id, name=tool.function.name)
        # OpenAI ends a forced named call with "stop" and a required call with "tool_calls".
        named = isinstance(request.tool_choice, NamedToolChoice)
        natural_finish = "stop" if named else "tool_calls"
        return _cut(split_pieces(arguments), limit, natural_finish, invocation)
    response_format = request.response_format
    if response_format is not None and response_format.type in ("json_object", "json_schema"):
        spec = response_format.json_schema
        schema = spec.schema if spec is not None else None
        document = msgspec.json.encode(invent_json(schema, rng, topics)).decode()
        return _cut(split_pieces(document), limit, "stop", None)
    natural = rng.randint(*reply_tokens)
    return _cut(write_prose(rng, natural, topics), limit, "stop", None)


def _forced_tool(request: ChatRequest, rng: random.Random) -> Tool | None:
    tools = request.tools
    choice = request.tool_choice
    if not tools or choice is None:
        return None
    if isinstance(choice, NamedToolChoice):
        return next((t for t in tools if t.function.name == choice.function.name), tools[0])
    return rng.choice(tools) if choice == "required" else None


def _cut(
    pieces: list[str], limit: int, finish_reason: str, tool: ToolInvocation | None
) -> Generated:
    if len(pieces) > limit:
        return Generated(pieces=tuple(pieces[:limit]), finish_reason="length", tool=tool)
    return Generated(pieces=tuple(pieces), finish_reason=finish_reason, tool=tool)


def empty_reply() -> Generated:
    """The empty-completion fault: 200, no content, no tool call."""
    return Generated(pieces=(), finish_reason="stop")


def reasoning_only_reply(rng: random.Random) -> Generated:
    """The other empty variant: only `reasoning_content` comes back."""
    return Generated(pieces=(), finish_reason="stop", reasoning=tuple(write_prose(rng, 16, [])))

"""Plain-text transcripts of a chat request's messages and of an answer, for the evaluator."""

from __future__ import annotations

import msgspec


class _Part(msgspec.Struct):
    type: str = "text"
    text: str | None = None


class _Message(msgspec.Struct):
    role: str = "user"
    content: str | list[_Part] | None = None
    tool_calls: list[msgspec.Raw] | None = None


class _Choice(msgspec.Struct):
    message: _Message | None = None


class _Completion(msgspec.Struct):
    choices: list[_Choice] = []


_messages_decoder = msgspec.json.Decoder(list[_Message])
_completion_decoder = msgspec.json.Decoder(_Completion)


def conversation_text(messages: bytes) -> str:
    """`role: text` per message; non-text parts and tool calls become short placeholders."""
    lines = [f"{m.role}: {_content(m)}" for m in _messages_decoder.decode(messages)]
    return "\n".join(lines)


def answer_text(body: bytes) -> str:
    """The first choice of a `chat.completion`, as text."""
    completion = _completion_decoder.decode(body)
    message = completion.choices[0].message if completion.choices else None
    return _content(message) if message is not None else ""


def _content(message: _Message) -> str:
    content = message.content
    if isinstance(content, list):
        content = " ".join(p.text or "" if p.type == "text" else f"[{p.type}]" for p in content)
    text = content or ""
    if message.tool_calls:
        text = f"{text} [{len(message.tool_calls)} tool call(s)]".strip()
    return text

"""Deterministic English-ish prose, and the token estimates the simulator bills with."""

from __future__ import annotations

import random
import re

from adapters.simulator.wire import Message

_VOCABULARY_TEXT = (
    "the a an of to and in that it for on with as is was be are this by from at or have not "
    "which one all can will would there their what about when more if out so up into some "
    "could them other than then now only its over also after use two how our work first well "
    "way even new want because any these give most us system model answer request result "
    "simple clear data value time cost price token small large fast slow service team "
    "example question method approach detail option step process change simply usually "
    "often quickly carefully together however therefore instead already probably likely "
    "important useful possible different similar common general specific available stable "
    "reliable efficient cheaper better consider explain describe compare choose improve "
    "reduce handle support measure follow check keep make take find show build run send "
    "read write start return include provide require suggest assume expect notice"
)
_VOCABULARY = tuple(_VOCABULARY_TEXT.split())
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{4,}")
_IMAGE_PART_TOKENS = 85


def message_text(message: Message) -> str:
    content = message.content
    if content is None:
        text = ""
    elif isinstance(content, str):
        text = content
    else:
        text = " ".join(part.text for part in content if part.text is not None)
    if message.tool_calls is not None:
        text += "".join(bytes(call).decode("utf-8", "replace") for call in message.tool_calls)
    return text


def estimate_prompt_tokens(messages: list[Message]) -> int:
    """About one token per four characters, plus four tokens of framing per message."""
    total = 0
    for message in messages:
        total += len(message_text(message)) // 4 + 4
        if isinstance(message.content, list):
            total += _IMAGE_PART_TOKENS * sum(1 for p in message.content if p.text is None)
    return total


def topic_words(messages: list[Message], *, limit: int = 8) -> list[str]:
    """Longer words of the last user message, so replies sound as if on topic."""
    for message in reversed(messages):
        if message.role == "user":
            seen = dict.fromkeys(w.lower() for w in _WORD.findall(message_text(message)))
            return list(seen)[:limit]
    return []


def write_prose(rng: random.Random, n_tokens: int, topics: list[str]) -> list[str]:
    """`n_tokens` word pieces (each one token) whose concatenation reads as sentences."""
    pieces: list[str] = []
    sentence_left = 0
    for _ in range(n_tokens):
        on_topic = topics and rng.random() < 0.12
        word = rng.choice(topics) if on_topic else rng.choice(_VOCABULARY)
        if sentence_left == 0:
            sentence_left = rng.randint(6, 15)
            word = word.capitalize()
        sentence_left -= 1
        if sentence_left == 0:
            word += "."
        elif rng.random() < 0.06:
            word += ","
        pieces.append(word if not pieces else " " + word)
    if pieces and not pieces[-1].endswith("."):
        pieces[-1] = pieces[-1].rstrip(",") + "."
    return pieces


def split_pieces(text: str, *, chars_per_token: int = 4) -> list[str]:
    """Slice non-prose output (JSON, arguments) into token-sized pieces."""
    return [text[i : i + chars_per_token] for i in range(0, len(text), chars_per_token)]

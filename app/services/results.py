"""What the chat service hands back to the controller."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChatReply:
    """A whole completion: the upstream's JSON body, returned untouched, and our headers."""

    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class ChatStream:
    """An SSE stream already opened upstream; `events` yields framed `data:` events, the first
    of them at once (the controller watches for a hang-up only after it)."""

    events: AsyncGenerator[bytes, None]
    headers: dict[str, str]

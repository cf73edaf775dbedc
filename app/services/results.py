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
    """An SSE stream already opened upstream; `events` yields framed `data:` events."""

    events: AsyncGenerator[bytes, None]
    headers: dict[str, str]

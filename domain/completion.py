"""What the gateway judges about an upstream answer, independent of the wire format."""

from __future__ import annotations

from dataclasses import dataclass

from domain.pricing import Usage


@dataclass(frozen=True, slots=True)
class CompletionSummary:
    text: str
    has_tool_call: bool
    finish_reason: str | None
    usage: Usage


def is_empty_completion(summary: CompletionSummary) -> bool:
    """No text and no tool call on a normal stop. Reasoning-only output counts as empty."""
    if summary.has_tool_call or summary.text.strip():
        return False
    return summary.finish_reason in (None, "stop")

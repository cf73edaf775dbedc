"""Request features: everything routing needs to know, computed by one pure function."""

from __future__ import annotations

from dataclasses import dataclass

from domain.catalog import Capability
from domain.complexity import score_complexity
from domain.tasks import TaskKind, guess_task
from domain.tokens import estimate_message_tokens

# Task and complexity only need the shape of the ask: a long document pasted after a short
# question does not make the question harder, and scanning it would cost time on the hot path.
_SCAN_HEAD_CHARS = 1500
_SCAN_TAIL_CHARS = 500


@dataclass(frozen=True, slots=True)
class PromptShape:
    """The wire-independent view of a chat request that features are computed from."""

    texts: tuple[str, ...]  # text of every message, in order
    last_user_text: str
    system_text: str
    has_images: bool = False
    has_audio: bool = False
    wants_tools: bool = False
    wants_json: bool = False
    requested_output: int | None = None
    tier_hint: str | None = None


@dataclass(frozen=True, slots=True)
class RequestFeatures:
    input_tokens: int
    requested_output: int | None
    needs: frozenset[Capability]
    task: TaskKind
    complexity: float
    keyword_hits: tuple[str, ...]
    tier_hint: str | None


def extract_features(shape: PromptShape, *, keywords: frozenset[str]) -> RequestFeatures:
    ask = _scan_window(shape.last_user_text)
    return RequestFeatures(
        input_tokens=estimate_message_tokens(shape.texts, len(shape.texts)),
        requested_output=shape.requested_output,
        needs=_needed_capabilities(shape),
        task=guess_task(ask),
        complexity=score_complexity(ask),
        keyword_hits=_keyword_hits(_scan_window(shape.system_text) + "\n" + ask, keywords),
        tier_hint=shape.tier_hint,
    )


def _scan_window(text: str) -> str:
    if len(text) <= _SCAN_HEAD_CHARS + _SCAN_TAIL_CHARS:
        return text
    return text[:_SCAN_HEAD_CHARS] + "\n" + text[-_SCAN_TAIL_CHARS:]


def _needed_capabilities(shape: PromptShape) -> frozenset[Capability]:
    needs = {Capability.TEXT}
    if shape.has_images:
        needs.add(Capability.VISION)
    if shape.has_audio:
        needs.add(Capability.AUDIO)
    if shape.wants_tools:
        needs.add(Capability.TOOLS)
    if shape.wants_json:
        needs.add(Capability.JSON)
    return frozenset(needs)


def _keyword_hits(text: str, keywords: frozenset[str]) -> tuple[str, ...]:
    if not keywords:
        return ()
    words = set(text.lower().replace("-", " ").split())
    stripped = {word.strip(".,;:!?()[]{}\"'") for word in words}
    return tuple(sorted(keywords & stripped))

"""Request features: everything routing needs to know, computed by one pure function."""

from __future__ import annotations

from dataclasses import dataclass

from domain.catalog import Capability
from domain.complexity import COMPLEXITY_CUES, score_complexity_from
from domain.cue_table import cue_table
from domain.prompt_text import PromptText, read_prompt
from domain.tasks import TASK_CUES, TaskKind, guess_task_from
from domain.tokens import estimate_message_tokens

# Task and complexity only need the shape of the ask: a long document pasted after a short
# question does not make the question harder, and scanning it would cost time on the hot path.
_SCAN_HEAD_CHARS = 1500
_SCAN_TAIL_CHARS = 500
# Task and complexity cues, counted in one sweep over the ask: they share phrases and gates.
_ASK_CUES = cue_table(TASK_CUES + COMPLEXITY_CUES)
_TASK_CUE_COUNT = len(TASK_CUES)


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
    ask = read_prompt(_scan_window(shape.last_user_text))
    counts = _ASK_CUES.count(ask)
    return RequestFeatures(
        input_tokens=estimate_message_tokens(shape.texts, len(shape.texts)),
        requested_output=shape.requested_output,
        needs=_needed_capabilities(shape),
        task=guess_task_from(ask, counts[:_TASK_CUE_COUNT]),
        complexity=score_complexity_from(ask, counts[_TASK_CUE_COUNT:]),
        keyword_hits=_keyword_hits(_scan_window(shape.system_text).lower(), ask, keywords),
        tier_hint=shape.tier_hint,
    )


def _scan_window(text: str) -> str:
    if len(text) <= _SCAN_HEAD_CHARS + _SCAN_TAIL_CHARS:
        return text
    return text[:_SCAN_HEAD_CHARS] + "\n" + text[-_SCAN_TAIL_CHARS:]


_TEXT_ONLY = frozenset({Capability.TEXT})


def _needed_capabilities(shape: PromptShape) -> frozenset[Capability]:
    if not (shape.has_images or shape.has_audio or shape.wants_tools or shape.wants_json):
        return _TEXT_ONLY
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


def _keyword_hits(system: str, ask: PromptText, keywords: frozenset[str]) -> tuple[str, ...]:
    if _none_can_hit(system, ask, keywords):  # most requests stop here
        return ()
    words = set((system + "\n" + ask.lowered).replace("-", " ").split())
    stripped = {word.strip(".,;:!?()[]{}\"'") for word in words}
    return tuple(sorted(keywords & stripped))


def _none_can_hit(system: str, ask: PromptText, keywords: frozenset[str]) -> bool:
    """A hit is a word of the text, so at least a substring; of the ask, an a-z keyword must be
    one of its words (a set lookup instead of a search through the text)."""
    if any(map(system.__contains__, keywords)):
        return False
    joined = "".join(keywords)
    if joined.isascii() and joined.isalpha():
        return keywords.isdisjoint(ask.words)
    return not any(map(ask.lowered.__contains__, keywords))

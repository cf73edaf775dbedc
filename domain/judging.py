"""Judging an answer with an evaluator model: the prompt, reading its 1-10 score, normalising it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

MIN_SCORE, MAX_SCORE = 1, 10
JUDGE_INSTRUCTIONS = (
    "You grade answers given by an AI assistant. Read the conversation and the assistant's "
    "answer, then rate the answer for correctness, completeness and following the user's "
    "instructions on a scale from 1 to 10: 10 = fully correct and complete, 8 = correct with "
    "minor omissions, 5 = partly wrong or incomplete, 1 = wrong, harmful or off-topic. "
    'Reply with JSON only, like {"score": 7}.'
)

_NUMBER = r"(\d{1,2}(?:\.\d+)?)"
_LABELLED = re.compile(r"\b(?:score|rating|grade)\b[^0-9\n]{0,24}?" + _NUMBER, re.IGNORECASE)
_OUT_OF_TEN = re.compile(_NUMBER + r"\s*(?:/|out of)\s*10\b", re.IGNORECASE)
_ANY_NUMBER = re.compile(r"(?<![\d.])" + _NUMBER + r"(?![\d.])")


@dataclass(frozen=True, slots=True)
class JudgeBrief:
    """What the evaluator sees: the conversation and the answer as plain text, both bounded."""

    conversation: str
    answer: str

    def messages(self) -> list[dict[str, str]]:
        user = f"Conversation:\n{self.conversation}\n\nAssistant's answer:\n{self.answer}"
        return [
            {"role": "system", "content": JUDGE_INSTRUCTIONS},
            {"role": "user", "content": user},
        ]


def brief_for(conversation: str, answer: str, *, max_chars: int = 6_000) -> JudgeBrief:
    """Keep the end of a long conversation (the question) and the start of a long answer."""
    if len(conversation) > max_chars:
        conversation = "[...]\n" + conversation[-max_chars:]
    if len(answer) > max_chars:
        answer = answer[:max_chars] + "\n[...]"
    return JudgeBrief(conversation=conversation, answer=answer)


def parse_score(text: str) -> float | None:
    """The 1-10 score in an evaluator's reply, or None when there is no single clear one.

    Accepts JSON (`{"score": 8}` or `8`), a labelled score ("Score: 8"), "8/10" or "8 out of
    10", or a reply holding exactly one number; anything outside 1-10 is rejected.
    """
    text = text.strip()
    for found in (_from_json(text), _first(_LABELLED, text), _first(_OUT_OF_TEN, text)):
        if found is not None:
            return found if MIN_SCORE <= found <= MAX_SCORE else None
    numbers = _ANY_NUMBER.findall(text)
    if len(numbers) != 1:
        return None
    value = float(numbers[0])
    return value if MIN_SCORE <= value <= MAX_SCORE else None


def quality_of(score: float) -> float:
    """A 1-10 score on the [0, 1] scale of caller feedback: 1 -> 0.0, 10 -> 1.0."""
    bounded = min(max(score, MIN_SCORE), MAX_SCORE)
    return (bounded - MIN_SCORE) / (MAX_SCORE - MIN_SCORE)


def _from_json(text: str) -> float | None:
    start, end = text.find("{"), text.rfind("}")
    candidate = text[start : end + 1] if 0 <= start < end else text
    try:
        value = json.loads(candidate)
    except ValueError:
        return None
    if isinstance(value, dict):
        value = next((value[k] for k in ("score", "rating", "grade") if k in value), None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _first(pattern: re.Pattern[str], text: str) -> float | None:
    match = pattern.search(text)
    return float(match.group(1)) if match else None

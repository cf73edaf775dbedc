"""Cascade acceptance: is a cheap model's answer good enough to return, or must we escalate?"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from domain.completion import CompletionSummary, is_empty_completion

_REFUSAL = re.compile(
    r"^\s*(?:i'?m sorry,? (?:but )?)?(?:i|we) (?:can(?:no|')t|am unable to|won'?t|"
    r"am not able to) (?:help|assist|comply|provide|do that|answer)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Verdict:
    accepted: bool
    reason: str


def judge_answer(
    summary: CompletionSummary,
    *,
    wants_json: bool,
    evaluator_score: float | None = None,
    min_evaluator_score: float | None = None,
) -> Verdict:
    if is_empty_completion(summary):
        return Verdict(False, "empty")
    if summary.finish_reason == "length":
        return Verdict(False, "truncated")
    if _REFUSAL.match(summary.text):
        return Verdict(False, "refusal")
    if wants_json and not summary.has_tool_call and not _is_json(summary.text):
        return Verdict(False, "invalid-json")
    if (
        min_evaluator_score is not None
        and evaluator_score is not None
        and evaluator_score < min_evaluator_score
    ):
        return Verdict(False, f"evaluator-score {evaluator_score:.2f}")
    return Verdict(True, "accepted")


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True

"""Reading an evaluator's score: JSON, labelled, "n/10", a lone number; nothing else."""

from __future__ import annotations

import pytest

from domain.judging import JUDGE_INSTRUCTIONS, brief_for, parse_score, quality_of


@pytest.mark.parametrize(
    ("reply", "score"),
    [
        ('{"score": 7}', 7.0),
        ('```json\n{"score": 8.5}\n```', 8.5),
        ("9", 9.0),
        ("Score: 6/10. The answer misses one step.", 6.0),
        ("I would rate it 4 out of 10.", 4.0),
        ("Rating - 10", 10.0),
        ("score 7, not 9", 7.0),
        ("The answer is good.", None),
        ("between 3 and 4", None),
        ("Rating: 11", None),
        ("0", None),
        ('{"score": true}', None),
        ("", None),
    ],
)
def test_scores_are_read_robustly(reply: str, score: float | None) -> None:
    assert parse_score(reply) == score


def test_scores_map_onto_the_feedback_scale() -> None:
    assert quality_of(1) == 0.0
    assert quality_of(10) == 1.0
    assert quality_of(8) == pytest.approx(7 / 9)


def test_the_brief_keeps_the_end_of_the_conversation_and_the_start_of_the_answer() -> None:
    brief = brief_for("x" * 50 + "QUESTION", "ANSWER" + "y" * 50, max_chars=20)
    assert brief.conversation.endswith("QUESTION") and brief.conversation.startswith("[...]")
    assert brief.answer.startswith("ANSWER") and brief.answer.endswith("[...]")
    system, user = brief.messages()
    assert system == {"role": "system", "content": JUDGE_INSTRUCTIONS}
    assert "QUESTION" in user["content"] and "ANSWER" in user["content"]

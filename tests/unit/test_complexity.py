from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.complexity import score_complexity

SMALL_TALK = "Hi! How are you doing today?"
CODE_TASK = (
    "Implement a function in Python that returns the kth smallest element of two sorted arrays"
    " in O(log n) time, and explain the edge cases."
)
PROOF = "Prove that the square root of 2 is irrational, step by step."
HAIKU = "Write a haiku about autumn leaves."


def test_empty_prompt_scores_zero() -> None:
    assert score_complexity("") == 0.0


def test_small_talk_scores_low() -> None:
    assert score_complexity(SMALL_TALK) < 0.2


@pytest.mark.parametrize("hard", [CODE_TASK, PROOF])
@pytest.mark.parametrize("easy", [SMALL_TALK, HAIKU])
def test_technical_prompts_outrank_chat_and_creative_ones(hard: str, easy: str) -> None:
    assert score_complexity(hard) > score_complexity(easy) + 0.1


def test_a_code_block_raises_the_score() -> None:
    question = "Why does this fail?"
    with_code = question + "\n```python\ndef mean(xs):\n    return sum(xs) / len(xs)\n```"
    assert score_complexity(with_code) > score_complexity(question) + 0.2


def test_proportional_relations_make_a_word_problem_harder() -> None:
    plain = "Tom has 3 apples and buys 4 more. How many apples does he have?"
    chained = (
        "Tom has 3 apples and buys twice as many. Anna has 25% more than Tom and at least"
        " half as many pears. How many fruits do they have?"
    )
    assert score_complexity(chained) > score_complexity(plain)


def test_open_ended_writing_cues_lower_the_score() -> None:
    neutral = "Explain the main causes of the French revolution."
    creative = "Write a vivid story and a poem about the main causes of the French revolution."
    assert score_complexity(creative) < score_complexity(neutral)


def test_urls_and_markdown_emphasis_do_not_read_as_arithmetic() -> None:
    plain = "Have you seen my trip blog? Really nice photos!"
    marked_up = "Have you seen https://example.com/blog/2024/05/trip? **Really** nice *photos*!"
    assert score_complexity(marked_up) < score_complexity(plain) + 0.05


def test_pasting_a_huge_document_does_not_push_the_score_to_the_top() -> None:
    document = "The committee met on Tuesday and discussed the budget. " * 2000
    assert score_complexity("Summarize this:\n" + document) < 0.6


@given(st.text(max_size=2000))
def test_score_is_a_probability_like_number(text: str) -> None:
    assert 0.0 <= score_complexity(text) <= 1.0


@given(st.text(max_size=1000))
def test_asking_for_code_never_lowers_the_score(text: str) -> None:
    assert score_complexity(text + " Implement the function in Python.") >= score_complexity(text)

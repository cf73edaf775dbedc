from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.tasks import TaskKind, guess_task


def test_task_kinds_are_the_documented_values() -> None:
    expected = ["chat", "code", "classify", "summarize", "translate", "reasoning", "creative"]
    assert [kind.value for kind in TaskKind] == expected


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("hi, how are you?", TaskKind.CHAT),
        ("What is the capital of France?", TaskKind.CHAT),
        ("Fix this bug:\n```py\nprint(len(xs)\n```", TaskKind.CODE),
        ("Write a SQL query that returns the top 5 customers by revenue", TaskKind.CODE),
        ("Write a Python function that reverses a linked list", TaskKind.CODE),
        ("Translate this Python function to Rust", TaskKind.CODE),
        ("Summarize this article in 3 key points: ...", TaskKind.SUMMARIZE),
        ("tl;dr of the following meeting notes please", TaskKind.SUMMARIZE),
        ('Translate "good morning, see you tomorrow" into French', TaskKind.TRANSLATE),
        ("How do you say thank you in Japanese?", TaskKind.TRANSLATE),
        (
            "Classify the sentiment of this review as positive, negative or neutral: great!",
            TaskKind.CLASSIFY,
        ),
        ("Extract every date and amount from this invoice and return JSON", TaskKind.CLASSIFY),
        ("Solve x^2 - 5x + 6 = 0", TaskKind.REASONING),
        ("A shop sells pens at $2 each. How many pens can I buy with $15?", TaskKind.REASONING),
        ("Prove that there are infinitely many primes.", TaskKind.REASONING),
        ("Write a haiku about autumn", TaskKind.CREATIVE),
        ("Write a short story about a dragon who is afraid of the dark", TaskKind.CREATIVE),
        ("Pretend you are a pirate and greet me", TaskKind.CREATIVE),
        ("Напиши стихотворение о весне", TaskKind.CREATIVE),  # noqa: RUF001
        ("一个西瓜进价50元，卖了70元，请计算利润是多少？", TaskKind.REASONING),  # noqa: RUF001
    ],
)
def test_guesses_clear_cases(prompt: str, expected: TaskKind) -> None:
    assert guess_task(prompt) is expected


def test_a_language_named_inside_a_creative_request_does_not_make_it_a_translation() -> None:
    assert guess_task("Write a poem in Spanish about the sea") is TaskKind.CREATIVE


def test_markdown_emphasis_in_small_talk_stays_chat() -> None:
    assert guess_task("Hey! **Quick question**: what *time zone* is Paris in?") is TaskKind.CHAT


def test_strong_code_evidence_wins_over_a_passing_creative_word() -> None:
    prompt = "Write a story generator in Python:\n```python\ndef story():\n    return 1\n```"
    assert guess_task(prompt) is TaskKind.CODE


@given(st.text(max_size=1000))
def test_any_text_gets_a_task_kind(text: str) -> None:
    assert isinstance(guess_task(text), TaskKind)


@given(st.text(alphabet=st.characters(categories=["Zs", "Cc"]), max_size=50))
def test_blank_input_is_chat(text: str) -> None:
    assert guess_task(text) is TaskKind.CHAT

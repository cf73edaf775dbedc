from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.tokens import (
    TOKENS_PER_MESSAGE,
    TOKENS_PER_REPLY,
    estimate_message_tokens,
    estimate_tokens,
)

# Real counts measured offline with cl100k_base (bpe-openai 0.1.4); non-ASCII text on purpose.
CL100K_SAMPLES = [
    ("hello world", 2),
    ("The quick brown fox jumps over the lazy dog.", 10),
    (
        "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes"  # noqa: RUF001
        " muffins for her friends every day with four. She sells the remainder at the farmers'"
        " market daily for $2 per fresh duck egg. How much in dollars does she make every day at"
        " the farmers' market?",
        64,
    ),
    (
        "def fibonacci(n: int) -> int:\n    if n < 2:\n        return n\n"
        "    return fibonacci(n - 1) + fibonacci(n - 2)\n",
        35,
    ),
    ("Привет, как дела? Сегодня хорошая погода, и мы пойдём гулять в парк вместе с друзьями.", 46),  # noqa: RUF001
    ("你好，你好吗？今天天气很好，我们要和朋友们一起去公园散步。", 34),  # noqa: RUF001
]


def test_empty_text_has_no_tokens() -> None:
    assert estimate_tokens("") == 0


@pytest.mark.parametrize(("text", "real"), CL100K_SAMPLES)
def test_estimate_is_within_fifteen_percent_of_cl100k(text: str, real: int) -> None:
    assert estimate_tokens(text) == pytest.approx(real, rel=0.15)


def test_estimate_beats_four_characters_per_token_on_cjk() -> None:
    text, real = CL100K_SAMPLES[-1]
    assert abs(estimate_tokens(text) - real) < abs(len(text) / 4 - real)


def test_message_overhead_follows_the_openai_chat_format() -> None:
    texts = ["You are terse.", "hello world"]
    expected = sum(map(estimate_tokens, texts)) + 2 * TOKENS_PER_MESSAGE + TOKENS_PER_REPLY
    assert estimate_message_tokens(texts, 2) == expected
    assert estimate_message_tokens([], 0) == TOKENS_PER_REPLY == 3
    assert TOKENS_PER_MESSAGE == 4


@given(st.text(min_size=1))
def test_non_empty_text_has_at_least_one_token(text: str) -> None:
    assert estimate_tokens(text) >= 1


@given(st.text(max_size=300), st.text(max_size=300))
def test_joining_texts_never_loses_tokens_and_adds_few(first: str, second: str) -> None:
    joined = estimate_tokens(first + " " + second)
    assert joined >= max(estimate_tokens(first), estimate_tokens(second))
    assert joined <= estimate_tokens(first) + estimate_tokens(second) + 2


@given(st.lists(st.text(max_size=100), max_size=8))
def test_message_estimate_is_additive(texts: list[str]) -> None:
    total = estimate_message_tokens(texts, len(texts))
    assert total == sum(map(estimate_tokens, texts)) + 4 * len(texts) + 3


def regex_estimate(text: str) -> int:
    """The estimator's pieces counted the plain way, one regex pass each (ASCII text only)."""
    long_words = re.findall("[A-Za-z]{7,}", text)
    estimate = (
        1.06 * len(re.findall("[A-Za-z]+", text))
        + 0.07 * (sum(map(len, long_words)) - 6 * len(long_words))
        + 1.6 * len(re.findall("[0-9]{1,3}", text))
        + 0.7 * len(re.findall(r"[!-/:-@\[-`{-~]+", text))
        + 0.55 * text.count("\n")
        + 0.85 * len(re.findall("[ \t]{2,}", text))
    )
    return max(1, round(estimate))


@given(st.text(alphabet=st.characters(max_codepoint=127), min_size=1, max_size=400))
def test_bitmask_counting_matches_one_regex_pass_per_piece(text: str) -> None:
    assert estimate_tokens(text) == regex_estimate(text)

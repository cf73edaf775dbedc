"""Fast token-count estimates for GPT-style BPE tokenizers, without a vocabulary."""

from __future__ import annotations

import re
from collections.abc import Iterable

_LATIN_WORD = re.compile(r"[A-Za-z]+")
_LONG_WORD = re.compile(r"[A-Za-z]{7,}")
_DIGIT_GROUP = re.compile(r"\d{1,3}")  # cl100k and o200k split numbers into 1-3 digit pieces
_PUNCT_RUN = re.compile(r"[!-/:-@\[-`{-~]+")
_SPACE_RUN = re.compile(r"[ \t]{2,}")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_NEAR_LATIN = re.compile(r"[\u00c0-\u052f]")  # accented Latin, Greek, Cyrillic

# Least-squares fit against cl100k_base on multilingual prompts (docs/routing-eval.md).
# o200k needs fewer tokens outside English, so there this errs on the high side.
_PER_WORD = 1.06
_PER_LONG_WORD_LETTER = 0.07  # letters past the sixth: long words split into pieces
_PER_DIGIT_GROUP = 1.6
_PER_PUNCT_RUN = 0.7
_PER_NEWLINE = 0.55
_PER_SPACE_RUN = 0.85  # indentation
_PER_CJK_CHAR = 1.15
_PER_NEAR_LATIN_CHAR = 0.55
_PER_OTHER_CHAR = 0.95  # other scripts, emoji, non-ASCII punctuation

# OpenAI's chat format: each message is wrapped in a few tokens, and the reply is primed.
TOKENS_PER_MESSAGE = 4
TOKENS_PER_REPLY = 3


def _ascii_tokens(text: str) -> float:
    long_words = _LONG_WORD.findall(text)
    return (
        _PER_WORD * len(_LATIN_WORD.findall(text))
        + _PER_LONG_WORD_LETTER * (sum(map(len, long_words)) - 6 * len(long_words))
        + _PER_DIGIT_GROUP * len(_DIGIT_GROUP.findall(text))
        + _PER_PUNCT_RUN * len(_PUNCT_RUN.findall(text))
        + _PER_NEWLINE * text.count("\n")
        + _PER_SPACE_RUN * len(_SPACE_RUN.findall(text))
    )


def _non_ascii_tokens(text: str) -> float:
    cjk = len(_CJK.findall(text))
    near_latin = len(_NEAR_LATIN.findall(text))
    other = len(_NON_ASCII.findall(text)) - cjk - near_latin
    return _PER_CJK_CHAR * cjk + _PER_NEAR_LATIN_CHAR * near_latin + _PER_OTHER_CHAR * other


# Past this length the estimate reads three slices and scales by length, so that routing a
# 100K-token document costs microseconds, not milliseconds; the slices keep the mix of prose,
# code and non-Latin script representative.
_SAMPLE_ABOVE_CHARS = 8192
_SLICE_CHARS = 2048


def estimate_tokens(text: str) -> int:
    """Approximate BPE token count of `text`: 0 for "", at least 1 otherwise."""
    if not text:
        return 0
    if len(text) > _SAMPLE_ABOVE_CHARS:
        return _sampled_estimate(text)
    estimate = _ascii_tokens(text)
    if not text.isascii():
        estimate += _non_ascii_tokens(text)
    return max(1, round(estimate))


def _sampled_estimate(text: str) -> int:
    middle = (len(text) - _SLICE_CHARS) // 2
    slices = (text[:_SLICE_CHARS], text[middle : middle + _SLICE_CHARS], text[-_SLICE_CHARS:])
    sampled = sum(estimate_tokens(piece) for piece in slices)
    return max(1, round(sampled * len(text) / (3 * _SLICE_CHARS)))


def estimate_message_tokens(texts: Iterable[str], message_count: int) -> int:
    """Prompt tokens of a chat request: the messages' texts plus OpenAI's framing overhead."""
    content = sum(map(estimate_tokens, texts))
    return content + TOKENS_PER_MESSAGE * message_count + TOKENS_PER_REPLY

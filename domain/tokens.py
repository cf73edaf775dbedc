"""Fast token-count estimates for GPT-style BPE tokenizers, without a vocabulary."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_NEAR_LATIN = re.compile(r"[\u00c0-\u052f]")  # accented Latin, Greek, Cyrillic
_OTHER_DIGITS = re.compile(r"[^\D0-9]{1,3}")  # decimal digits outside ASCII: full-width, ...

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


# Past this length the estimate reads three slices and scales by length, so that routing a
# 100K-token document costs microseconds, not milliseconds; the slices keep the mix of prose,
# code and non-Latin script representative.
_SAMPLE_ABOVE_CHARS = 8192
_SLICE_CHARS = 2048

# The ASCII pieces are counted in the UTF-8 bytes, where a non-ASCII character is bytes >= 0x80
# and so separates runs exactly as it does in the text. A regex pass per kind of piece cost ~5 us
# per 400 characters. Instead bytes.translate gives each byte its kind as a bit (letter 1,
# punctuation 2, blank 4) and the bytes become one big int, so a shift by 8 compares every byte
# with the one before it, for all kinds at once.
_KINDS = bytes(
    (char in string.ascii_letters) | (char in string.punctuation) << 1 | (char in " \t") << 2
    for char in map(chr, range(256))
)
_LOW_BITS = int.from_bytes(b"\x01" * 4 * _SAMPLE_ABOVE_CHARS, "little")  # bit 0 of every byte
_DIGITS_ONLY = bytes(byte if chr(byte) in string.digits else 32 for byte in range(256))
_ASCII = bytes(range(128))
_ASCII_TO_SPACE = b" " * 128 + bytes(range(128, 256))


def _ascii_tokens(data: bytes) -> float:
    kinds = int.from_bytes(data.translate(_KINDS), "little")
    starts = kinds & ~(kinds << 8)  # first byte of each run
    repeats = kinds & (kinds << 8)  # bytes of the same kind as the one before
    after_3 = repeats & (repeats << 16)
    after_6 = after_3 & (after_3 << 24)  # six of the same kind before: letters past the sixth
    second_in_run = repeats & ~(kinds << 16)  # one per run of two or more
    digit_runs = data.translate(_DIGITS_ONLY).split()
    return (
        _PER_WORD * (starts & _LOW_BITS).bit_count()
        + _PER_LONG_WORD_LETTER * (after_6 & _LOW_BITS).bit_count()
        + _PER_DIGIT_GROUP * sum((len(run) + 2) // 3 for run in digit_runs)
        + _PER_PUNCT_RUN * (starts >> 1 & _LOW_BITS).bit_count()
        + _PER_NEWLINE * data.count(b"\n")
        + _PER_SPACE_RUN * (second_in_run >> 2 & _LOW_BITS).bit_count()
    )


def _non_ascii_tokens(data: bytes) -> float:
    # Regexes over str cost ~20 ns a character, so they read only the non-ASCII characters: all
    # of a Chinese text, a few quotes, dashes or emoji in most prompts.
    others = data.translate(None, _ASCII).decode("utf-8", "surrogatepass")
    cjk = len(_CJK.findall(others))
    near_latin = len(_NEAR_LATIN.findall(others))
    return (
        _PER_CJK_CHAR * cjk
        + _PER_NEAR_LATIN_CHAR * near_latin
        + _PER_OTHER_CHAR * (len(others) - cjk - near_latin)
        + _PER_DIGIT_GROUP * _other_digit_groups(data, others)
    )


def _other_digit_groups(data: bytes, others: str) -> int:
    if not _OTHER_DIGITS.search(others):
        return 0
    # Digits apart in the text must stay apart: a space for each stretch of ASCII between them.
    runs = b" ".join(data.translate(_ASCII_TO_SPACE).split()).decode("utf-8", "surrogatepass")
    return len(_OTHER_DIGITS.findall(runs))


def estimate_tokens(text: str) -> int:
    """Approximate BPE token count of `text`: 0 for "", at least 1 otherwise."""
    if not text:
        return 0
    if len(text) > _SAMPLE_ABOVE_CHARS:
        return _sampled_estimate(text)
    data = text.encode("utf-8", "surrogatepass")
    estimate = _ascii_tokens(data)
    if not text.isascii():
        estimate += _non_ascii_tokens(data)
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

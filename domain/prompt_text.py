"""A prompt read once: lower-cased and split into words for the routing heuristics."""

from __future__ import annotations

import string
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PromptText:
    """The text a decision reads, in the forms the heuristics search; made by `read_prompt`."""

    text: str
    lowered: str
    utf8: bytes  # `lowered` in UTF-8
    words: frozenset[str]  # maximal runs of a-z in `lowered`
    symbols: str  # `lowered` without ASCII letters, digits and spaces: punctuation, other scripts
    has_digits: bool  # may hold a decimal digit (always true outside ASCII: `\d` is Unicode)


def _keep_or_space(kept: bytes) -> bytes:
    return bytes(byte if byte in kept else 32 for byte in range(256))


_LETTERS_OR_SPACE = _keep_or_space(string.ascii_lowercase.encode())
_ALNUM_AND_SPACE = (string.ascii_letters + string.digits + " ").encode()
_NOT_DIGITS = bytes(byte for byte in range(256) if byte not in string.digits.encode())


def read_prompt(text: str) -> PromptText:
    """Lower-case `text` and split it into words once, for all the heuristics that need them."""
    lowered = text.lower()
    # Outside ASCII every UTF-8 byte is >= 0x80, so bytes.translate can sort the ASCII out at
    # C speed: the words are those a `[a-z]+` regex finds in `lowered`, at a fraction of the cost.
    utf8 = lowered.encode("utf-8", "surrogatepass")
    words = utf8.translate(_LETTERS_OR_SPACE).decode("ascii").split()
    return PromptText(
        text=text,
        lowered=lowered,
        utf8=utf8,
        words=frozenset(words),
        symbols=utf8.translate(None, _ALNUM_AND_SPACE).decode("utf-8", "surrogatepass"),
        has_digits=not lowered.isascii() or bool(utf8.translate(None, _NOT_DIGITS)),
    )

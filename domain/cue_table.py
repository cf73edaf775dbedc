"""Cue tables: lists of cue words and phrases, all counted in a prompt in one sweep."""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import compress

from domain.prompt_text import PromptText

CueList = tuple[frozenset[str], tuple[str, ...]]  # cue words, cue phrases
_Member = tuple[int, str]  # (list index, phrase)


def phrases(text: str) -> tuple[str, ...]:
    """Lower-case phrases from a "|"-separated list."""
    return tuple(text.split("|")) if text else ()


@dataclass(frozen=True, slots=True)
class CueTable:
    """Cue lists counted together; build with `cue_table`.

    A cue word counts once when it is one of the prompt's words, a phrase each time it occurs in
    the lower-cased prompt (`str.count`). Every phrase search reads the whole prompt, so the work
    is in making fewer: single punctuation characters are counted in one pass over the bytes,
    and other phrases are only searched for when the prompt holds their gate, a part that a
    group of them shares:
    - phrases that start or end alike: their common start or end ("how " for "how many" and
      "how much", " than" for "more than" and "less than");
    - phrases with punctuation: their punctuation, looked for in the short `PromptText.symbols`
      ("::" for "::", "#" for "#include" and "c#");
    - phrases in other scripts: the UTF-8 lead byte of their first non-ASCII character (one
      byte covers 64 Cyrillic or 4096 CJK characters), and never in ASCII text.
    """

    size: int
    word_lists: dict[str, tuple[int, ...]]  # word -> the lists that hold it
    words: frozenset[str]
    plain: tuple[str, ...]  # phrases without a gate: always searched
    plain_lists: tuple[int, ...]
    chars: tuple[tuple[int, bytes], ...]  # (list index, its single punctuation characters)
    shared: tuple[str, ...]
    shared_members: tuple[tuple[_Member, ...], ...]
    marks: tuple[str, ...]
    mark_members: tuple[tuple[_Member, ...], ...]
    lead_bytes: tuple[int, ...]
    lead_members: tuple[tuple[_Member, ...], ...]

    def count(self, prompt: PromptText) -> list[int]:
        """Hits per list, in the order of the lists."""
        counts = [0] * self.size
        for word in prompt.words & self.words:
            for index in self.word_lists[word]:
                counts[index] += 1
        text, utf8 = prompt.lowered, prompt.utf8
        found = list(map(text.count, self.plain))
        for index, hits in compress(zip(self.plain_lists, found, strict=True), found):
            counts[index] += hits
        for index, chars in self.chars:
            counts[index] += len(utf8) - len(utf8.translate(None, chars))
        groups = [
            compress(self.shared_members, map(text.__contains__, self.shared)),
            compress(self.mark_members, map(prompt.symbols.__contains__, self.marks)),
        ]
        if not text.isascii():  # O(1) in CPython
            groups.append(compress(self.lead_members, map(utf8.__contains__, self.lead_bytes)))
        for open_groups in groups:
            for members in open_groups:
                for index, phrase in members:
                    counts[index] += text.count(phrase)
        return counts


def cue_table(lists: Iterable[CueList]) -> CueTable:
    """A table of (words, phrases) lists; `CueTable.count` returns hits in the same order."""
    table = list(lists)
    every_phrase = [phrase for _, list_phrases in table for phrase in list_phrases]
    word_lists: dict[str, list[int]] = {}
    plain: list[_Member] = []
    chars: dict[int, str] = {}
    shared: dict[str, list[_Member]] = {}
    marks: dict[str, list[_Member]] = {}
    leads: dict[int, list[_Member]] = {}
    for index, (words, list_phrases) in enumerate(table):
        for word in words:
            word_lists.setdefault(word, []).append(index)
        for phrase in list_phrases:
            member = (index, phrase)
            if not phrase.isascii():
                first_other = next(char for char in phrase if not char.isascii())
                leads.setdefault(first_other.encode()[0], []).append(member)
            elif len(phrase) == 1 and phrase in string.punctuation:
                chars[index] = chars.get(index, "") + phrase
            elif part := _shared_part(phrase, every_phrase):
                shared.setdefault(part, []).append(member)
            elif mark := "".join(char for char in phrase if char not in _UNMARKED):
                marks.setdefault(mark, []).append(member)
            else:
                plain.append(member)
    return CueTable(
        size=len(table),
        word_lists={word: tuple(indexes) for word, indexes in word_lists.items()},
        words=frozenset(word_lists),
        plain=tuple(phrase for _, phrase in plain),
        plain_lists=tuple(index for index, _ in plain),
        chars=tuple((index, found.encode()) for index, found in chars.items()),
        shared=tuple(shared),
        shared_members=_frozen(shared.values()),
        marks=tuple(marks),
        mark_members=_frozen(marks.values()),
        lead_bytes=tuple(leads),
        lead_members=_frozen(leads.values()),
    )


_UNMARKED = frozenset(string.ascii_letters + string.digits + " ")  # what `symbols` leaves out


def _shared_part(phrase: str, every_phrase: list[str]) -> str:
    """The common start of the phrases that begin with the same four characters as `phrase`,
    else the common end of those that end with the same four, if there are several."""
    if len(phrase) < 4:
        return ""
    same_start = [other for other in every_phrase if other[:4] == phrase[:4]]
    if len(same_start) > 1:
        return _common_start(same_start)
    same_end = [other[::-1] for other in every_phrase if other[-4:] == phrase[-4:]]
    return _common_start(same_end)[::-1] if len(same_end) > 1 else ""


def _common_start(items: list[str]) -> str:
    start = items[0]
    for item in items[1:]:
        while not item.startswith(start):
            start = start[:-1]
    return start


def _frozen(groups: Iterable[list[_Member]]) -> tuple[tuple[_Member, ...], ...]:
    return tuple(tuple(members) for members in groups)

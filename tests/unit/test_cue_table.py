from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from domain.complexity import score_complexity
from domain.cue_table import CueList, cue_table, phrases
from domain.features import PromptShape, extract_features
from domain.prompt_text import read_prompt
from domain.tasks import guess_task

# Letters, punctuation, digits, whitespace and a few other scripts, so that every kind of gate
# (shared start, punctuation, UTF-8 lead byte) is both hit and missed.
CHARACTERS = "aehowmnyst Pi-:;{}=>!\n9#`+é\u00d7ПриТ中文"  # noqa: RUF001
PROMPT_TEXT = st.text(alphabet=st.sampled_from(list(CHARACTERS)))
LISTS: list[CueList] = [
    (frozenset({"how", "many"}), phrases("how many|how much|how long|tl;dr")),
    (frozenset({"shot"}), phrases("::|=>|!=|{\n|#|+|;|c#|step-by-step|step by step")),
    (frozenset(), phrases("при|привет|中文|\u00d7|é")),
    (frozenset({"many", "when"}), phrases("how many|many|at most|a")),
]
TABLE = cue_table(LISTS)


def naive_counts(text: str, lists: list[CueList]) -> list[int]:
    lowered = text.lower()
    words = set(re.findall("[a-z]+", lowered))
    return [len(words & cue_words) + sum(map(lowered.count, cues)) for cue_words, cues in lists]


@given(PROMPT_TEXT)
def test_words_are_the_a_to_z_runs_of_the_lower_case_text(text: str) -> None:
    assert read_prompt(text).words == set(re.findall("[a-z]+", text.lower()))


@given(st.text())
def test_any_text_can_be_read(text: str) -> None:
    prompt = read_prompt(text)
    assert prompt.lowered == text.lower()
    if any(char.isdecimal() for char in text):
        assert prompt.has_digits


@given(PROMPT_TEXT)
def test_a_table_counts_what_a_word_set_and_str_count_would(text: str) -> None:
    assert TABLE.count(read_prompt(text)) == naive_counts(text, LISTS)


def test_gates_group_phrases_that_start_or_end_alike_or_share_punctuation_or_a_script() -> None:
    assert {"how ", "many"} <= set(TABLE.shared)
    assert {"::", "=>", "{\n"} <= set(TABLE.marks)
    assert "привет".encode()[0] in TABLE.lead_bytes
    assert TABLE.plain == ("at most", "a")


def test_an_empty_prompt_has_no_hits() -> None:
    assert TABLE.count(read_prompt("")) == [0, 0, 0, 0]


@given(st.text(max_size=2000) | PROMPT_TEXT)
def test_features_share_one_sweep_but_agree_with_the_public_functions(text: str) -> None:
    shape = PromptShape(texts=(text,), last_user_text=text, system_text="")
    features = extract_features(shape, keywords=frozenset())
    assert features.task is guess_task(text)
    assert features.complexity == score_complexity(text)

"""The numbers of a prompt, which a semantic hit must share with the stored prompt."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.similarity import SemanticScope, numbers_in


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("How do I reset my password?", ()),
        ("A train leaves at 60 km/h and covers 120 km.", ("60", "120")),
        ("Pi is about 3.14, e about 2.718.", ("3.14", "2.718")),
        ("Revenue was 1,000,000 dollars, or 1000000.", ("1000000", "1000000")),
        ("12,345.67 and 1,5 and 1,0000", ("12345.67", "1", "5", "1", "0000")),
        ("Classify ticket #4512 and invoice INV-2231.", ("4512", "2231")),
        ("It is -5 °C, x=-7; pages 10-20 of ISO 8601.", ("-5", "-7", "10", "20", "8601")),
        ("a 45-year-old, gpt4o, v1.2.3, .5 and 007", ("45", "4", "1.2", "3", "5", "007")),
        ("Order 5440. Thanks", ("5440",)),
    ],
)
def test_numbers_are_digit_runs_with_thousands_decimals_and_a_minus_sign(
    text: str, numbers: tuple[str, ...]
) -> None:
    assert numbers_in(text) == numbers


@given(st.text())
def test_every_digit_of_the_text_is_in_its_numbers_in_order(text: str) -> None:
    # So two texts whose digits differ never have the same numbers.
    digits = "".join(ch for ch in text if ch.isdecimal())
    assert "".join(ch for n in numbers_in(text) for ch in n if ch.isdecimal()) == digits


@given(a=st.integers(0, 10**6), b=st.integers(0, 10**6))
def test_the_same_sentence_with_other_numbers_has_other_numbers(a: int, b: int) -> None:
    first = numbers_in(f"A train leaves at {a} km/h and covers {b} km.")
    second = numbers_in(f"A train leaves at {b} km/h and covers {a} km.")
    assert (first == second) == (a == b)


def _scope(numbers: tuple[str, ...] | list[str]) -> SemanticScope:
    return SemanticScope.of(
        tenant="acme", route="economy", system=b"[]", context=b"{}", numbers=numbers
    )


def test_numbers_separate_scopes_and_no_numbers_keep_the_old_id() -> None:
    plain = SemanticScope.of(tenant="acme", route="economy", system=b"[]", context=b"{}")
    assert _scope(()) == plain
    # Ids are stored (Redis): a scope without numbers keeps the id it had before numbers counted.
    assert plain.id == "e9172c5b7ba7714355e58dacf627051d27cd9cf31c3c6ed306415c3ce3e864db"
    assert len({plain.id, _scope(["60"]).id, _scope(["80"]).id, _scope(["60", "80"]).id}) == 4
    assert _scope(("60",)).id == _scope(["60"]).id

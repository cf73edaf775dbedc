from __future__ import annotations

import pytest

from app.request_context import caller_timeout_s
from domain.errors import InvalidRequest


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, 30.0),
        ("", 30.0),
        ("500", 0.5),
        ("1500.5", 1.5005),
        ("0", 0.001),
        ("-20", 0.001),
        ("99999999", 30.0),
        ("inf", 30.0),
    ],
)
def test_the_callers_deadline_is_clamped_to_1ms_and_the_servers(
    header: str | None, expected: float
) -> None:
    assert caller_timeout_s(header, 30.0) == pytest.approx(expected)


@pytest.mark.parametrize("header", ["soon", "nan", "1s"])
def test_a_deadline_that_is_not_a_number_is_refused(header: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        caller_timeout_s(header, 30.0)
    assert raised.value.param == "x-tiergate-timeout-ms"

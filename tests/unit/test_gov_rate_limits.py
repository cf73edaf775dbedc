"""Sliding-minute RPM/TPM: admission, retry-after, and OpenAI's x-ratelimit headers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.rate_limits import (
    Allowance,
    MinuteWindow,
    RateLimit,
    WindowCounts,
    allowances,
    check_rate,
    format_duration,
)


def test_minute_window_of_a_timestamp() -> None:
    assert MinuteWindow.at(125.5) == MinuteWindow(index=2, elapsed_s=5.5)


def test_the_previous_minute_weighs_by_its_remaining_overlap() -> None:
    counts = WindowCounts(previous=60, current=10)
    assert counts.used(MinuteWindow(1, 0.0)) == 70
    assert counts.used(MinuteWindow(1, 45.0)) == 25


def test_a_call_is_admitted_only_if_every_dimension_has_room() -> None:
    limit = RateLimit(requests_per_minute=10, tokens_per_minute=1000)
    window = MinuteWindow(1, 30.0)
    room = allowances(limit, WindowCounts(0, 9), WindowCounts(0, 500), token_cost=500)
    assert check_rate(room, window).allowed
    no_tokens = allowances(limit, WindowCounts(0, 0), WindowCounts(0, 501), token_cost=500)
    refused = check_rate(no_tokens, window)
    assert not refused.allowed
    assert "tokens per minute: limit 1000" in refused.detail


def test_headers_of_an_admitted_call_count_it() -> None:
    limit = RateLimit(requests_per_minute=10, tokens_per_minute=1000)
    window = MinuteWindow(1, 15.0)
    decision = check_rate(
        allowances(limit, WindowCounts(0, 3), WindowCounts(0, 100), token_cost=250), window
    )
    assert decision.headers == {
        "x-ratelimit-limit-requests": "10",
        "x-ratelimit-remaining-requests": "6",
        "x-ratelimit-reset-requests": "1m45s",
        "x-ratelimit-limit-tokens": "1000",
        "x-ratelimit-remaining-tokens": "650",
        "x-ratelimit-reset-tokens": "1m45s",
    }


def test_only_configured_dimensions_get_headers() -> None:
    dims = allowances(
        RateLimit(requests_per_minute=5), WindowCounts(), WindowCounts(), token_cost=9
    )
    assert [dim.name for dim in dims] == ["requests"]
    assert RateLimit(tokens_per_minute=5).dimensions == ("tokens",)
    assert not RateLimit().active


def test_retry_after_when_the_previous_minute_must_fade() -> None:
    dim = Allowance("requests", limit=10, counts=WindowCounts(previous=20, current=0), cost=1)
    window = MinuteWindow(1, 30.0)  # used = 10
    # 20 * (1 - t/60) + 1 <= 10  ->  t >= 33 s, i.e. 3 s from now
    assert dim.retry_after_s(window) == pytest.approx(3.0)


def test_retry_after_when_the_current_minute_is_full() -> None:
    dim = Allowance("requests", limit=10, counts=WindowCounts(previous=0, current=10), cost=1)
    # next minute: 10 * (1 - t/60) + 1 <= 10  ->  t >= 6 s, plus the 40 s left now
    assert dim.retry_after_s(MinuteWindow(1, 20.0)) == pytest.approx(46.0)


def test_a_call_larger_than_the_limit_never_fits() -> None:
    dim = Allowance("tokens", limit=100, counts=WindowCounts(), cost=101)
    decision = check_rate((dim,), MinuteWindow(0, 0.0))
    assert not decision.allowed
    assert "Request too large" in decision.detail
    assert decision.retry_after_s == 120.0


@given(
    limit=st.integers(1, 1000),
    previous=st.integers(0, 2000),
    current=st.integers(0, 2000),
    cost=st.integers(1, 1000),
    elapsed=st.floats(0, 59.99),
)
def test_waiting_retry_after_admits_the_call(
    limit: int, previous: int, current: int, cost: int, elapsed: float
) -> None:
    """With no other traffic, the call fits once retry-after has passed."""
    dim = Allowance("tokens", limit, WindowCounts(previous, current), cost)
    window = MinuteWindow(0, elapsed)
    wait = dim.retry_after_s(window)
    assert wait >= 0
    if cost > limit or dim.admits(window):
        return
    later = elapsed + wait + 1e-6
    if later < 60:
        assert dim.admits(MinuteWindow(0, later))
    elif later < 120:  # the current minute has become the previous one
        moved = Allowance("tokens", limit, WindowCounts(current, 0), cost)
        assert moved.admits(MinuteWindow(1, later - 60))
    else:  # both minutes are gone
        assert Allowance("tokens", limit, WindowCounts(0, 0), cost).admits(MinuteWindow(2, 0))


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (0.2501, "251ms"), (1.5, "1.5s"), (12, "12s"), (360, "6m0s"), (90.25, "1m30.25s")],
)
def test_format_duration_like_openai(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimit(requests_per_minute=0)

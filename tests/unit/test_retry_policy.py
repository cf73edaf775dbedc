from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import (
    EmptyCompletion,
    StreamInterrupted,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamHTTPError,
    UpstreamTimeout,
)
from domain.retry_policy import NEVER, RetryBudget, RetryPolicy, upstream_at_fault

POLICY = RetryPolicy(max_attempts=3, base_delay_s=0.2, max_delay_s=8.0, max_retry_after_s=30.0)

fractions = st.floats(min_value=0.0, max_value=1.0)
attempts = st.integers(min_value=1, max_value=10_000)
statuses = st.integers(min_value=400, max_value=599)


def upstream_errors() -> st.SearchStrategy[UpstreamError]:
    return st.one_of(
        statuses.map(lambda status: UpstreamHTTPError("http", status=status)),
        st.sampled_from(
            [
                UpstreamTimeout("t"),
                UpstreamConnectionError("c"),
                EmptyCompletion("e"),
                StreamInterrupted("s"),
                UpstreamError("u"),
            ]
        ),
    )


def test_backoff_doubles_then_caps() -> None:
    delays = [POLICY.delay_s(n, random_fraction=1.0, retry_after_s=None) for n in (1, 2, 3, 7, 8)]
    assert delays == [0.2, 0.4, 0.8, 8.0, 8.0]


def test_full_jitter_scales_the_whole_delay() -> None:
    assert POLICY.delay_s(3, random_fraction=0.0, retry_after_s=None) == 0.0
    assert POLICY.delay_s(3, random_fraction=0.5, retry_after_s=None) == pytest.approx(0.4)


def test_retry_after_wins_over_backoff_without_jitter() -> None:
    assert POLICY.delay_s(1, random_fraction=0.0, retry_after_s=2.5) == 2.5
    assert POLICY.delay_s(1, random_fraction=1.0, retry_after_s=30.0) == 30.0


def test_retry_after_beyond_the_cap_means_never() -> None:
    delay = POLICY.delay_s(1, random_fraction=0.3, retry_after_s=31.0)
    assert delay == NEVER
    assert not POLICY.should_retry(
        1, UpstreamHTTPError("429", status=429), remaining_s=1e9, delay_s=delay
    )


def test_should_retry_respects_attempts_and_deadline() -> None:
    busy = UpstreamHTTPError("busy", status=503)
    assert POLICY.should_retry(1, busy, remaining_s=5.0, delay_s=0.1)
    assert POLICY.should_retry(2, busy, remaining_s=5.0, delay_s=0.1)
    assert not POLICY.should_retry(3, busy, remaining_s=5.0, delay_s=0.1)
    assert not POLICY.should_retry(1, busy, remaining_s=0.1, delay_s=0.1)
    assert not POLICY.should_retry(
        1, UpstreamHTTPError("bad", status=400), remaining_s=5.0, delay_s=0.0
    )


@pytest.mark.parametrize("fraction", [-0.1, 1.5, math.nan])
def test_random_fraction_outside_unit_interval_is_rejected(fraction: float) -> None:
    with pytest.raises(ValueError, match="random_fraction"):
        POLICY.delay_s(1, random_fraction=fraction, retry_after_s=None)


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


@given(
    attempt=attempts,
    fraction=fractions,
    retry_after=st.none() | st.floats(min_value=-5, max_value=1e6),
)
def test_delay_is_within_zero_and_the_cap(
    attempt: int, fraction: float, retry_after: float | None
) -> None:
    delay = POLICY.delay_s(attempt, random_fraction=fraction, retry_after_s=retry_after)
    if retry_after is None:
        assert 0.0 <= delay <= POLICY.max_delay_s
    else:
        assert delay == NEVER or 0.0 <= delay <= POLICY.max_retry_after_s


@given(
    attempt=attempts,
    error=upstream_errors(),
    remaining=st.floats(-10, 100),
    delay=st.floats(0, 100),
)
def test_never_retries_what_is_not_retryable_or_past_the_deadline(
    attempt: int, error: UpstreamError, remaining: float, delay: float
) -> None:
    if POLICY.should_retry(attempt, error, remaining_s=remaining, delay_s=delay):
        assert error.retryable
        assert attempt < POLICY.max_attempts
        assert delay < remaining


@pytest.mark.parametrize(
    ("error", "at_fault"),
    [
        (UpstreamTimeout("t"), True),
        (UpstreamConnectionError("c"), True),
        (EmptyCompletion("e"), True),
        (UpstreamHTTPError("x", status=500), True),
        (UpstreamHTTPError("x", status=501), True),
        (UpstreamHTTPError("x", status=503), True),
        (UpstreamHTTPError("x", status=429), True),
        (UpstreamHTTPError("x", status=408), True),
        (UpstreamHTTPError("x", status=400), False),
        (UpstreamHTTPError("x", status=401), False),
        (UpstreamHTTPError("x", status=404), False),
        (UpstreamHTTPError("x", status=413), False),
        (UpstreamHTTPError("x", status=422), False),
        (ValueError("our bug"), False),
        (KeyboardInterrupt(), False),
    ],
)
def test_whose_fault(error: BaseException, at_fault: bool) -> None:
    assert upstream_at_fault(error) is at_fault


def spend_until_refused(budget: RetryBudget, now: float, limit: int = 10_000) -> int:
    spent = 0
    while spent < limit and budget.try_spend(now):
        spent += 1
    return spent


def test_budget_floor_lets_a_quiet_gateway_retry() -> None:
    budget = RetryBudget(ratio=0.2, window_s=10, min_per_window=3)
    assert spend_until_refused(budget, now=100.0) == 3


def test_budget_grows_with_traffic() -> None:
    budget = RetryBudget(ratio=0.2, window_s=10, min_per_window=3)
    for _ in range(50):
        budget.record_request(100.0)
    assert spend_until_refused(budget, now=101.0) == 3 + 10


def test_budget_recovers_after_the_window() -> None:
    budget = RetryBudget(ratio=0.2, window_s=10, min_per_window=2)
    for _ in range(20):
        budget.record_request(0.0)
    assert spend_until_refused(budget, now=1.0) == 6
    assert not budget.try_spend(9.5)
    assert spend_until_refused(budget, now=11.5) == 2  # old requests and spends both expired


events = st.lists(st.tuples(st.floats(min_value=0.0, max_value=9.999), st.booleans()), max_size=300)


@given(events=events, ratio=st.floats(0.0, 1.0), floor=st.integers(0, 20))
def test_budget_never_exceeds_ratio_of_requests_plus_floor_within_a_window(
    events: list[tuple[float, bool]], ratio: float, floor: int
) -> None:
    budget = RetryBudget(ratio=ratio, window_s=10.0, min_per_window=floor)
    requests = spent = 0
    for now, is_request in sorted(events):
        if is_request:
            budget.record_request(now)
            requests += 1
        elif budget.try_spend(now):
            spent += 1
            assert spent <= floor + ratio * requests + 1e-9


@given(
    start=st.floats(min_value=0.0, max_value=1e6),
    requests=st.integers(0, 200),
    floor=st.integers(1, 20),
)
def test_exhausted_budget_always_recovers_its_floor_one_window_later(
    start: float, requests: int, floor: int
) -> None:
    budget = RetryBudget(ratio=0.2, window_s=10.0, min_per_window=floor)
    for _ in range(requests):
        budget.record_request(start)
    spend_until_refused(budget, start)
    assert not budget.try_spend(start)
    assert spend_until_refused(budget, start + 10.0) == floor

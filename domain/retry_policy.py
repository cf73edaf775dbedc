"""Retry rules: backoff with full jitter, when to retry, whose fault a failure is, retry budget."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from domain.errors import RETRYABLE_STATUSES, UpstreamError, UpstreamHTTPError

NEVER = math.inf
"""A delay meaning "do not retry this candidate" (the upstream asked for a longer pause)."""

# Exponents past this would overflow a float long before any sane max_delay_s caps them.
_MAX_EXPONENT = 62


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently one candidate is retried (`max_attempts` includes the first)."""

    max_attempts: int = 3
    base_delay_s: float = 0.2
    max_delay_s: float = 8.0
    max_retry_after_s: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.base_delay_s, self.max_delay_s, self.max_retry_after_s) < 0:
            raise ValueError("delays must not be negative")

    def delay_s(
        self, attempt: int, *, random_fraction: float, retry_after_s: float | None
    ) -> float:
        """The pause before the attempt after `attempt` (1-based); `NEVER` if it is too long."""
        if not 0.0 <= random_fraction <= 1.0:
            raise ValueError("random_fraction must lie in [0, 1]")
        if retry_after_s is not None:
            wait = max(retry_after_s, 0.0)
            return wait if wait <= self.max_retry_after_s else NEVER
        exponent = min(max(attempt - 1, 0), _MAX_EXPONENT)
        return random_fraction * min(self.max_delay_s, self.base_delay_s * 2.0**exponent)

    def should_retry(
        self, attempt: int, error: UpstreamError, *, remaining_s: float, delay_s: float
    ) -> bool:
        """Retry only what may succeed again, within the attempt limit and before the deadline."""
        return error.retryable and attempt < self.max_attempts and delay_s < remaining_s


def upstream_at_fault(error: BaseException) -> bool:
    """Whether a failure says the upstream (not the request, not the caller) is unwell.

    Timeouts, broken connections, empty answers, 5xx, 408/409 and 429 count: the same request
    may succeed later or elsewhere. Other 4xx (400, 401, 403, 404, 413, 422...) judged the
    request itself, and anything that is not an `UpstreamError` (cancellation, a client
    disconnect, a bug in our own code) says nothing about the upstream.
    """
    if isinstance(error, UpstreamHTTPError):
        status = error.status
        return status is None or status >= 500 or status in RETRYABLE_STATUSES
    return isinstance(error, UpstreamError)


class _Bucket:
    __slots__ = ("index", "requests", "spent")

    def __init__(self, index: int) -> None:
        self.index = index
        self.requests = 0
        self.spent = 0


class RetryBudget:
    """Caps retries and fallbacks at `ratio` of the requests seen over the last `window_s`.

    `min_per_window` is a floor so that a quiet gateway can still retry. The window slides in
    tenths (`_SLICES`), so each call is O(1) amortised. Times are passed in (monotonic seconds).
    """

    _SLICES = 10

    def __init__(
        self, *, ratio: float = 0.2, window_s: float = 10.0, min_per_window: int = 10
    ) -> None:
        if ratio < 0 or window_s <= 0 or min_per_window < 0:
            raise ValueError("ratio and min_per_window must be >= 0 and window_s > 0")
        self.ratio = ratio
        self.window_s = window_s
        self.min_per_window = min_per_window
        self._slice_s = window_s / self._SLICES
        self._buckets: deque[_Bucket] = deque()
        self._requests = 0
        self._spent = 0

    def record_request(self, now: float) -> None:
        self._current(now).requests += 1
        self._requests += 1

    def try_spend(self, now: float) -> bool:
        """Take one retry (or fallback) token if the budget allows it."""
        bucket = self._current(now)
        if self._spent + 1 > self.min_per_window + self.ratio * self._requests:
            return False
        bucket.spent += 1
        self._spent += 1
        return True

    def _current(self, now: float) -> _Bucket:
        index = math.floor(now / self._slice_s)
        buckets = self._buckets
        while buckets and buckets[0].index <= index - self._SLICES:
            expired = buckets.popleft()
            self._requests -= expired.requests
            self._spent -= expired.spent
        if buckets and buckets[-1].index >= index:
            # A clock that steps back is folded into the newest bucket rather than reordering.
            return buckets[-1]
        bucket = _Bucket(index)
        buckets.append(bucket)
        return bucket

"""Per-tenant RPM and TPM limits over a sliding one-minute window, and OpenAI's x-ratelimit headers.

The window is the usual two-bucket approximation: the previous minute's count, weighted by how
much of it still overlaps the last 60 s, plus the current minute's count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

WINDOW_S = 60.0


@dataclass(frozen=True, slots=True)
class RateLimit:
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None

    def __post_init__(self) -> None:
        for limit in (self.requests_per_minute, self.tokens_per_minute):
            if limit is not None and limit <= 0:
                raise ValueError("rate limits must be positive")

    @property
    def active(self) -> bool:
        return self.requests_per_minute is not None or self.tokens_per_minute is not None

    @property
    def dimensions(self) -> tuple[str, ...]:
        """The limited dimensions, in header order: "requests", "tokens"."""
        limits = (("requests", self.requests_per_minute), ("tokens", self.tokens_per_minute))
        return tuple(name for name, limit in limits if limit is not None)


NO_RATE_LIMIT = RateLimit()


@dataclass(frozen=True, slots=True)
class MinuteWindow:
    index: int  # whole minutes since the epoch
    elapsed_s: float  # seconds into that minute

    @classmethod
    def at(cls, epoch_s: float) -> MinuteWindow:
        index = math.floor(epoch_s / WINDOW_S)
        return cls(index=index, elapsed_s=epoch_s - index * WINDOW_S)


@dataclass(frozen=True, slots=True)
class WindowCounts:
    """Usage counted in the previous and the current minute, before the call being admitted."""

    previous: int = 0
    current: int = 0

    def used(self, window: MinuteWindow) -> float:
        overlap = 1.0 - window.elapsed_s / WINDOW_S
        return self.previous * overlap + self.current


@dataclass(frozen=True, slots=True)
class Allowance:
    """One dimension (requests or tokens) of a rate limit, for one call."""

    name: str  # "requests" | "tokens"
    limit: int
    counts: WindowCounts
    cost: int  # what this call consumes: 1 request, or its estimated tokens

    def admits(self, window: MinuteWindow) -> bool:
        return self.counts.used(window) + self.cost <= self.limit

    def retry_after_s(self, window: MinuteWindow) -> float:
        """How long until this call's cost fits, assuming no other traffic arrives meanwhile."""
        if self.admits(window):
            return 0.0
        room_now = self.limit - self.counts.current - self.cost
        if room_now >= 0 and self.counts.previous > 0:
            wait = WINDOW_S * (1 - room_now / self.counts.previous) - window.elapsed_s
            if window.elapsed_s + wait < WINDOW_S:
                return max(wait, 0.0)
        to_next = WINDOW_S - window.elapsed_s
        if self.cost > self.limit:
            return to_next + WINDOW_S  # never fits; say so without promising a time
        room_next = self.limit - self.cost
        if self.counts.current == 0:
            return to_next
        return to_next + max(0.0, WINDOW_S * (1 - room_next / self.counts.current))

    def headers(self, window: MinuteWindow, *, admitted: bool) -> dict[str, str]:
        used = self.counts.used(window) + (self.cost if admitted else 0)
        current = self.counts.current + (self.cost if admitted else 0)
        if current > 0:
            reset = WINDOW_S - window.elapsed_s + WINDOW_S
        elif self.counts.previous > 0:
            reset = WINDOW_S - window.elapsed_s
        else:
            reset = 0.0
        return {
            f"x-ratelimit-limit-{self.name}": str(self.limit),
            f"x-ratelimit-remaining-{self.name}": str(max(0, math.floor(self.limit - used))),
            f"x-ratelimit-reset-{self.name}": format_duration(reset),
        }


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    retry_after_s: float = 0.0
    detail: str = ""
    headers: dict[str, str] = field(default_factory=dict)


def allowances(
    limit: RateLimit, requests: WindowCounts, tokens: WindowCounts, *, token_cost: int
) -> tuple[Allowance, ...]:
    found: list[Allowance] = []
    if limit.requests_per_minute is not None:
        found.append(Allowance("requests", limit.requests_per_minute, requests, 1))
    if limit.tokens_per_minute is not None:
        found.append(Allowance("tokens", limit.tokens_per_minute, tokens, token_cost))
    return tuple(found)


def check_rate(dims: tuple[Allowance, ...], window: MinuteWindow) -> RateDecision:
    """Admit only if every dimension has room; otherwise say when to retry."""
    refused = [dim for dim in dims if not dim.admits(window)]
    admitted = not refused
    headers: dict[str, str] = {}
    for dim in dims:
        headers |= dim.headers(window, admitted=admitted)
    if admitted:
        return RateDecision(True, headers=headers)
    worst = max(refused, key=lambda dim: dim.retry_after_s(window))
    detail = f"Rate limit reached for {worst.name} per minute: limit {worst.limit}"
    if worst.cost > worst.limit:
        detail = (
            f"Request too large for {worst.name} per minute: "
            f"limit {worst.limit}, requested {worst.cost}"
        )
    return RateDecision(False, worst.retry_after_s(window), detail, headers)


def format_duration(seconds: float) -> str:
    """OpenAI's reset format: `250ms`, `1.5s`, `6m0s`."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{math.ceil(seconds * 1000)}ms"
    minutes, rest = divmod(seconds, 60)
    text = f"{rest:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{int(minutes)}m{text}" if minutes else text

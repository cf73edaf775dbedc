"""FailoverChatUpstream: one ChatUpstream over several upstreams (regions, keys) in health order."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from domain.errors import UpstreamConnectionError, UpstreamError, UpstreamTimeout
from domain.ports import (
    BreakerRegistry,
    ChatUpstream,
    UpstreamCall,
    UpstreamReply,
    UpstreamStream,
)
from domain.retry_policy import upstream_at_fault

T = TypeVar("T")
Attempt = Callable[[ChatUpstream, UpstreamCall], Awaitable[T]]


@dataclass(frozen=True, slots=True)
class UpstreamRoute:
    """One upstream. Lower `priority` is tried first. A non-empty `models` makes it a dedicated
    channel (e.g. a "pro" key): used only for those models, and before every general route."""

    name: str
    upstream: ChatUpstream
    priority: int = 0
    models: frozenset[str] = frozenset()

    def serves(self, model: str) -> bool:
        return not self.models or model in self.models


class NoUpstreamAvailable(UpstreamConnectionError):
    """Every upstream for the model is behind an open circuit (or none serves it); try another
    model. `retry_after_s`, when set, is when the first of them may be tried again."""

    code = "no_upstream_available"
    retryable = False  # retrying the same model cannot help before a cool-down ends


@dataclass(slots=True)
class _Health:
    unhealthy_until: float | None = None
    probing: bool = False

    def cooling(self, now: float) -> bool:
        return self.unhealthy_until is not None and now < self.unhealthy_until


class FailoverChatUpstream:
    """Tries the routes serving `call.model` until one answers.

    An upstream fault (`upstream_at_fault`: connection, timeout, 5xx, 429...) marks the route
    unhealthy for `cooldown_s` (or the upstream's shorter Retry-After) and moves on; any other
    error was caused by the request and propagates at once. Once its cool-down has passed a
    route takes its usual place again for one probe at a time, so a recovered primary is
    actually re-tried instead of waiting behind a healthy secondary forever. When every route
    is cooling down, all are tried anyway. Streams fail over only while opening; after
    `open_stream` returns the stream belongs to the caller.
    """

    def __init__(
        self,
        *,
        routes: Sequence[UpstreamRoute],
        breakers: BreakerRegistry,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        names = [route.name for route in routes]
        if not names or len(set(names)) != len(names):
            raise ValueError("FailoverChatUpstream needs at least one route, with unique names")
        self._routes = tuple(routes)
        self._breakers = breakers
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._health = {name: _Health() for name in names}

    async def complete(self, call: UpstreamCall) -> UpstreamReply:
        return await self._first_answer(call, lambda upstream, c: upstream.complete(c))

    async def open_stream(self, call: UpstreamCall) -> UpstreamStream:
        return await self._first_answer(call, lambda upstream, c: upstream.open_stream(c))

    async def embed(self, call: UpstreamCall) -> UpstreamReply:
        return await self._first_answer(call, lambda upstream, c: upstream.embed(c))

    def health(self) -> dict[str, dict[str, bool | float | None]]:
        return {
            name: {
                "healthy": health.unhealthy_until is None,
                "unhealthy_until": health.unhealthy_until,
            }
            for name, health in self._health.items()
        }

    async def _first_answer(self, call: UpstreamCall, attempt: Attempt[T]) -> T:
        deadline = self._clock() + call.timeout_s
        last_error: UpstreamError | None = None
        routes = self._in_order(call.model)
        # Every route cooling down: skipping them all would turn one reset or timeout into an
        # outage of every model (with a single upstream, always). Try them anyway (Envoy's
        # "panic" mode); per-model trouble is left to the breakers.
        panic = all(self._health[route.name].cooling(self._clock()) for route in routes)
        for route in routes:
            now = self._clock()
            health = self._health[route.name]
            if (health.cooling(now) and not panic) or not self._breakers.admits(
                route.name, call.model
            ):
                continue
            if now >= deadline:
                break
            probe = health.unhealthy_until is not None and not health.probing
            if probe:
                health.probing = True
            started = False
            try:
                async with self._breakers.guard(route.name, call.model):
                    started = True
                    result = await attempt(route.upstream, call.with_timeout(deadline - now))
            except UpstreamError as exc:
                if not started:
                    continue  # the breaker refused at the last moment: not this route's fault
                if not upstream_at_fault(exc):
                    health.unhealthy_until = None  # it answered; the request was the problem
                    raise
                if isinstance(exc, UpstreamConnectionError | UpstreamTimeout):
                    # The whole upstream (region, key) is in trouble; per-model HTTP failures
                    # are the breakers' business, or one 503 would bench every model.
                    self._mark_unhealthy(health, exc)
                last_error = exc
            else:
                health.unhealthy_until = None
                return result
            finally:
                if probe:
                    health.probing = False
        if last_error is not None:
            raise last_error
        if self._clock() >= deadline:
            raise UpstreamTimeout(f"deadline passed before an upstream could serve {call.model}")
        raise NoUpstreamAvailable(
            f"no upstream available for model {call.model}",
            retry_after_s=self._next_chance_s(call.model),
        )

    def _in_order(self, model: str) -> list[UpstreamRoute]:
        def rank(route: UpstreamRoute) -> tuple[bool, bool, int]:
            health = self._health[route.name]
            awaiting_probe = health.unhealthy_until is not None and health.probing
            return (awaiting_probe, not route.models, route.priority)

        return sorted((route for route in self._routes if route.serves(model)), key=rank)

    def _mark_unhealthy(self, health: _Health, error: UpstreamError) -> None:
        pause = self._cooldown_s
        if error.retry_after_s is not None:
            pause = min(pause, max(error.retry_after_s, 0.0))
        health.unhealthy_until = self._clock() + pause

    def _next_chance_s(self, model: str) -> float | None:
        now = self._clock()
        waits = [
            until - now
            for route in self._routes
            if route.serves(model)
            and (until := self._health[route.name].unhealthy_until) is not None
            and until > now
        ]
        return min(waits, default=None)

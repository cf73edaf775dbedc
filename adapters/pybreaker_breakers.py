"""PybreakerRegistry: a pybreaker circuit per (upstream, model), async-safe, one half-open probe."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

import pybreaker

from domain.errors import UpstreamConnectionError, UpstreamError
from domain.retry_policy import upstream_at_fault

StateListener = Callable[[str, str, str], None]
"""Called with (upstream, model, new_state) whenever a circuit changes state."""

CLOSED, OPEN, HALF_OPEN = pybreaker.STATE_CLOSED, pybreaker.STATE_OPEN, pybreaker.STATE_HALF_OPEN


class CircuitOpen(UpstreamConnectionError):
    """The circuit for (upstream, model) refused the attempt; try another upstream or model."""

    code = "circuit_open"


def _not_upstream_fault(exc: BaseException) -> bool:
    return _proves_nothing(exc) or not upstream_at_fault(exc)


def _proves_nothing(exc: BaseException) -> bool:
    """Says nothing about the upstream: a cancellation, our own bug, a refused circuit."""
    return isinstance(exc, CircuitOpen) or not isinstance(exc, UpstreamError)


# Cancellation is not an UpstreamError, so the predicate alone would exclude it; it is listed
# anyway because a client disconnect tripping the breaker is the costly mistake to avoid.
_EXCLUDED: list[type[BaseException] | Callable[[Any], bool]] = [
    asyncio.CancelledError,
    _not_upstream_fault,
]


class _Circuit(pybreaker.CircuitBreakerListener):
    """One breaker plus what pybreaker does not track: our own open time and the probe slot."""

    def __init__(self, registry: PybreakerRegistry, upstream: str, model: str) -> None:
        self.upstream = upstream
        self.model = model
        self.registry = registry
        self.opened_at: float | None = None
        self.probing = False
        self.muted = False
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=registry.fail_max,
            reset_timeout=registry.reset_timeout_s,
            exclude=_EXCLUDED,
            listeners=[self],
            name=f"{upstream}/{model}",
            # Keep the caller's own exception (with its status and Retry-After) on a trip.
            throw_new_error_on_trip=False,
        )

    def state(self) -> str:
        """pybreaker's state, with its lazy open -> half-open step applied as of now."""
        current: str = self.breaker.current_state
        if current == OPEN and self._reset_timeout_passed():
            return HALF_OPEN
        return current

    def admits(self) -> bool:
        state = self.state()
        return state == CLOSED or (state == HALF_OPEN and not self.probing)

    def _reset_timeout_passed(self) -> bool:
        # Stamped after pybreaker stamps its own `opened_at`, so never earlier than pybreaker's.
        return (
            self.opened_at is not None
            and time.monotonic() - self.opened_at >= self.registry.reset_timeout_s
        )

    def restore(self, state: str) -> None:
        """Undo pybreaker's verdict on a probe that proved nothing, without telling the listener."""
        try:
            if state == OPEN:
                self.breaker.open()
            elif state == HALF_OPEN:
                self.breaker.half_open()
        finally:
            self.muted = False

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        if new_state.name == OPEN:
            self.opened_at = time.monotonic()
        changed = old_state is None or old_state.name != new_state.name
        if changed and not self.muted and self.registry.on_state_change is not None:
            self.registry.on_state_change(self.upstream, self.model, new_state.name)


class PybreakerRegistry:
    """`domain.ports.BreakerRegistry` over pybreaker, created lazily per (upstream, model).

    pybreaker is synchronous: `guard` holds `breaker.calling()` open across the awaited
    attempt, so the breaker sees whatever the `async with` block raises. Only upstream faults
    (`domain.retry_policy.upstream_at_fault`) count as failures. pybreaker records every
    excluded exception as a success: fine for a 400 (the upstream answered), but a half-open
    probe that was cancelled (or hit our own bug) proved nothing, so the circuit goes back to
    half-open for the next probe.
    """

    def __init__(
        self,
        *,
        fail_max: int = 5,
        reset_timeout_s: float = 30.0,
        on_state_change: StateListener | None = None,
    ) -> None:
        self.fail_max = fail_max
        self.reset_timeout_s = reset_timeout_s
        self.on_state_change = on_state_change
        self._circuits: dict[tuple[str, str], _Circuit] = {}

    def admits(self, upstream: str, model: str) -> bool:
        circuit = self._circuits.get((upstream, model))
        return circuit is None or circuit.admits()

    def states(self) -> dict[tuple[str, str], str]:
        return {key: circuit.state() for key, circuit in self._circuits.items()}

    def guard(self, upstream: str, model: str) -> _Guard:
        return _Guard(self._circuit(upstream, model))

    def _circuit(self, upstream: str, model: str) -> _Circuit:
        circuit = self._circuits.get((upstream, model))
        if circuit is None:
            circuit = self._circuits[upstream, model] = _Circuit(self, upstream, model)
        return circuit


class _Guard:
    """One attempt inside `breaker.calling()`, which sees whatever the attempt raises.

    A class rather than an `asynccontextmanager`: it wraps every upstream attempt, and the
    generator machinery cost more than the breaker's own bookkeeping."""

    __slots__ = ("_calling", "_circuit", "_probe")

    def __init__(self, circuit: _Circuit) -> None:
        self._circuit = circuit
        self._probe = False
        self._calling: AbstractContextManager[None] | None = None

    async def __aenter__(self) -> None:
        circuit = self._circuit
        if not circuit.admits():
            raise _refused(circuit)
        self._probe = circuit.state() == HALF_OPEN
        calling = circuit.breaker.calling()
        try:
            calling.__enter__()
        except pybreaker.CircuitBreakerError as exc:
            # Only when pybreaker's wall clock disagrees with our monotonic one.
            raise _refused(circuit) from exc
        self._calling = calling
        if self._probe:
            circuit.probing = True

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        circuit = self._circuit
        interrupted_in: str | None = None
        if exc is not None and self._probe and _proves_nothing(exc):
            # pybreaker is about to record this as a success and close the circuit.
            interrupted_in = circuit.breaker.current_state
            circuit.muted = True
        try:
            assert self._calling is not None
            self._calling.__exit__(exc_type, exc, traceback)
        finally:
            if interrupted_in is not None:
                circuit.restore(interrupted_in)
            if self._probe:
                circuit.probing = False


def _refused(circuit: _Circuit) -> CircuitOpen:
    return CircuitOpen(
        f"circuit open for {circuit.model} on {circuit.upstream}", upstream=circuit.upstream
    )

"""Fail open: cache backend calls run under a deadline, and any failure is counted, not raised."""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, TypeVar

T = TypeVar("T")
ErrorHook = Callable[[str, BaseException], None]
"""Called with (operation, exception) for every failed or timed-out backend call."""

logger = logging.getLogger(__name__)


class Failed(enum.Enum):
    FAILED = "failed"


FAILED: Final = Failed.FAILED


@dataclass(slots=True)
class CacheStats:
    """Counters since start; `errors` includes `timeouts`."""

    hits: int = 0
    misses: int = 0
    stores: int = 0
    errors: int = 0
    timeouts: int = 0
    skipped: int = 0  # answers not stored (too large)


class FailOpenGuard:
    """Runs each backend call under `timeout_s`; a failure or timeout returns `FAILED`.

    `timeout_s=None` is for in-process backends, which cannot hang on I/O: arming and
    cancelling an event-loop timer per call cost ~7% of a cache hit's CPU.

    Logs once when the backend starts failing and once when it answers again, so an outage
    does not flood the log. Nothing is ever disabled: every call tries the backend.
    """

    def __init__(
        self, *, name: str, timeout_s: float | None, stats: CacheStats, on_error: ErrorHook | None
    ) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self.stats = stats
        self._on_error = on_error
        self._failing = False

    async def run(self, operation: str, call: Callable[[], Awaitable[T]]) -> T | Failed:
        try:
            if self.timeout_s is None:
                result = await call()
            else:
                async with asyncio.timeout(self.timeout_s):
                    result = await call()
        except Exception as exc:  # every backend failure, including our own timeout
            self._record(operation, exc)
            return FAILED
        if self._failing:
            self._failing = False
            logger.info("%s answers again; caching resumed", self.name)
        return result

    def _record(self, operation: str, exc: Exception) -> None:
        self.stats.errors += 1
        if isinstance(exc, TimeoutError):
            self.stats.timeouts += 1
        if not self._failing:
            self._failing = True
            logger.warning("%s %s failed (%r); failing open", self.name, operation, exc)
        if self._on_error is not None:
            try:
                self._on_error(operation, exc)
            except Exception:  # a broken metrics hook must not fail the request either
                logger.exception("cache on_error hook raised")

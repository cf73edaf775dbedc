"""Governance fails open: a store that cannot answer is logged once, counted, and worked around."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from domain.governance_errors import StoreUnavailable

T = TypeVar("T")
FailureHook = Callable[[str], None]
"""Called with the operation name on every store failure (e.g. a Prometheus counter)."""

logger = logging.getLogger(__name__)


class StoreGuard:
    def __init__(self, *, on_failure: FailureHook | None = None) -> None:
        self.failures = 0
        self._on_failure = on_failure
        self._failing = False

    async def run(self, operation: str, call: Callable[[], Awaitable[T]], fallback: T) -> T:
        try:
            result = await call()
        except StoreUnavailable as exc:
            self._record(operation, exc)
            return fallback
        if self._failing:
            self._failing = False
            logger.info("governance store answers again (%s)", operation)
        return result

    def _record(self, operation: str, exc: StoreUnavailable) -> None:
        self.failures += 1
        if not self._failing:
            self._failing = True
            logger.warning(
                "governance store failed (%s: %s); budgets and limits fail open", operation, exc
            )
        if self._on_failure is not None:
            try:
                self._on_failure(operation)
            except Exception:  # a broken metrics hook must not fail the request
                logger.exception("governance on_failure hook raised")

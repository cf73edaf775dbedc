"""Readiness: every registered dependency check must answer "ok"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

ReadinessCheck = Callable[[], Awaitable[str]]


class Readiness:
    def __init__(self, checks: dict[str, ReadinessCheck] | None = None) -> None:
        self._checks = dict(checks or {})

    async def check(self) -> dict[str, str]:
        results = {"config": "ok"}
        for name, check in self._checks.items():
            try:
                results[name] = await check()
            except Exception as exc:  # a failing probe is reported, never raised
                results[name] = f"error: {type(exc).__name__}"
        return results

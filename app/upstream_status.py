"""A read-only view of upstream health and breaker states for the admin endpoint."""

from __future__ import annotations

from adapters.failover_upstream import FailoverChatUpstream
from domain.ports import BreakerRegistry


class UpstreamStatus:
    def __init__(self, *, upstream: FailoverChatUpstream, breakers: BreakerRegistry) -> None:
        self._upstream = upstream
        self._breakers = breakers

    def health(self) -> dict[str, dict[str, bool | float | None]]:
        return self._upstream.health()

    def breaker_states(self) -> dict[tuple[str, str], str]:
        return self._breakers.states()

"""ChatObserver: what the chat path reports about a request and its upstream attempts.

The service and the executor call it at the points that matter (planned, each attempt, retry,
fallback, settled) and never see spans or metric families. `SILENT` is the default: it records
nothing, so services built without a container stay plain to test.
"""

from __future__ import annotations

from typing import Protocol

from app.call_context import CallContext
from app.response_headers import CallReport
from app.services.attempts import AttemptLog
from domain.catalog import Model
from domain.errors import UpstreamError
from domain.ports import UpstreamCall
from domain.pricing import Usage
from domain.route_plan import RoutePlan


class AttemptWatch(Protocol):
    """One upstream attempt, from the call being built until its reply (or stream) ended."""

    def traced(self, call: UpstreamCall) -> UpstreamCall:
        """`call` with the trace context the upstream should continue."""
        ...

    def answered(
        self,
        upstream: str | None,
        usage: Usage,
        finish_reason: str | None,
        payload: bytes | None = None,
    ) -> None:
        """The upstream answered; `payload` is its completion body or first stream chunk."""
        ...

    def end(self, error: BaseException | None = None) -> None: ...


class RequestWatch(Protocol):
    def settled(self, log: AttemptLog, report: CallReport | None) -> None:
        """The request is over: every attempt is in `log`; `report` is None if it failed."""
        ...


class ChatObserver(Protocol):
    def request(self, ctx: CallContext, plan: RoutePlan) -> RequestWatch: ...

    def attempt(
        self, model: Model, plan: RoutePlan, *, position: int, number: int
    ) -> AttemptWatch: ...

    def retrying(self, error: UpstreamError) -> None: ...

    def falling_back(self, error: UpstreamError | None) -> None:
        """Moving to the plan's next candidate; `error` is None when a cascade escalates."""
        ...


class _SilentWatch:
    __slots__ = ()

    def traced(self, call: UpstreamCall) -> UpstreamCall:
        return call

    def answered(
        self,
        upstream: str | None,
        usage: Usage,
        finish_reason: str | None,
        payload: bytes | None = None,
    ) -> None:
        pass

    def end(self, error: BaseException | None = None) -> None:
        pass

    def settled(self, log: AttemptLog, report: CallReport | None) -> None:
        pass


_SILENT_WATCH = _SilentWatch()


class SilentChatObserver:
    """Observes nothing and allocates nothing."""

    def request(self, ctx: CallContext, plan: RoutePlan) -> RequestWatch:
        return _SILENT_WATCH

    def attempt(self, model: Model, plan: RoutePlan, *, position: int, number: int) -> AttemptWatch:
        return _SILENT_WATCH

    def retrying(self, error: UpstreamError) -> None:
        pass

    def falling_back(self, error: UpstreamError | None) -> None:
        pass


SILENT = SilentChatObserver()

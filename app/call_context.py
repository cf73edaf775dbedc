"""Who is calling and under what limits: built once per request by the controller."""

from __future__ import annotations

import msgspec

from domain.cache_directives import CacheDirectives

NO_DIRECTIVES = CacheDirectives()


class CallContext(msgspec.Struct, frozen=True):
    request_id: str
    tenant: str
    cache_scope: str
    feature: str
    deadline: float  # monotonic clock reading after which no attempt may start or run
    tier_hint: str | None = None
    cache: CacheDirectives = NO_DIRECTIVES
    max_cost_usd: str | None = None
    traceparent: str | None = None
    allow_fallback: bool = True

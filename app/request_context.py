"""Building a CallContext from an HTTP request's headers."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Mapping
from typing import Any

from app.call_context import CallContext
from app.request_ids import request_ids
from domain.cache_directives import parse_directives
from domain.errors import InvalidRequest
from domain.tenants import OPEN_TENANT, Tenant

TIMEOUT_HEADER = "x-tiergate-timeout-ms"


def header_map(scope: Mapping[str, Any]) -> dict[str, str]:
    """The request's headers by lower-case name (ASGI already lower-cases them; the last of a
    repeated header wins). Cheaper than Litestar's multi-dict, which the hot path does not need."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


def call_context(
    headers: Mapping[str, str], *, timeout_s: float, caller: Tenant = OPEN_TENANT
) -> CallContext:
    return CallContext(
        request_id=request_ids.next(),
        tenant=caller.name,
        cache_scope=cache_scope(caller, headers.get("authorization")),
        feature=headers.get("x-tiergate-feature") or "untagged",
        deadline=time.monotonic() + caller_timeout_s(headers.get(TIMEOUT_HEADER), timeout_s),
        tier_hint=headers.get("x-tiergate-tier"),
        cache=parse_directives(headers),
        max_cost_usd=headers.get("x-tiergate-max-cost-usd"),
        traceparent=headers.get("traceparent"),
        allow_fallback=headers.get("x-tiergate-fallback", "").lower() not in ("off", "none", "0"),
    )


def caller_timeout_s(header: str | None, server_limit_s: float) -> float:
    """The caller's own deadline (`x-tiergate-timeout-ms`), clamped to [1 ms, the server's]."""
    if header is None or not header.strip():
        return server_limit_s
    try:
        millis = float(header)
    except ValueError:
        millis = math.nan
    if math.isnan(millis):
        raise InvalidRequest(
            f"{TIMEOUT_HEADER} must be a number of milliseconds", param=TIMEOUT_HEADER
        )
    return min(max(millis / 1000, 0.001), server_limit_s)


def cache_scope(caller: Tenant, authorization: str | None) -> str:
    """Whose cached answers a caller may see: its tenant's, or in open mode (no tenants) only
    those of callers with the same key, so no caller is ever served another's answer."""
    if caller is not OPEN_TENANT:
        return "tenant:" + caller.name
    if not authorization:
        return "anonymous"
    return "key:" + hashlib.sha256(authorization.encode()).hexdigest()[:16]

"""Building a CallContext from an HTTP request's headers."""

from __future__ import annotations

import time
import uuid
from typing import Any

from litestar import Request

from app.call_context import CallContext


def call_context(request: Request[Any, Any, Any], *, timeout_s: float) -> CallContext:
    headers = request.headers
    return CallContext(
        request_id=uuid.uuid4().hex,
        tenant="default",
        feature=headers.get("x-tiergate-feature") or "untagged",
        deadline=time.monotonic() + timeout_s,
        tier_hint=headers.get("x-tiergate-tier"),
        cache_control=headers.get("x-tiergate-cache"),
        max_cost_usd=headers.get("x-tiergate-max-cost-usd"),
        traceparent=headers.get("traceparent"),
        allow_fallback=headers.get("x-tiergate-fallback", "").lower() not in ("off", "none", "0"),
    )

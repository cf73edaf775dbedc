"""The x-tiergate-* response headers that explain what a call did and cost."""

from __future__ import annotations

import msgspec

from domain.pricing import Cost, format_usd


class CallReport(msgspec.Struct, frozen=True):
    request_id: str
    model: str
    route: str
    tier: str
    reason: str
    attempts: int = 1
    fallback: bool = False
    degraded: str | None = None
    cache: str = "bypass"  # "bypass", "miss", "hit" or "semantic-hit"


def report_headers(report: CallReport) -> dict[str, str]:
    headers = {
        "x-tiergate-request-id": report.request_id,
        "x-tiergate-model": report.model,
        "x-tiergate-route": report.route,
        "x-tiergate-tier": report.tier,
        "x-tiergate-reason": report.reason,
        "x-tiergate-attempts": str(report.attempts),
        "x-tiergate-fallback": "true" if report.fallback else "false",
        "x-tiergate-cache": report.cache,
    }
    if report.degraded:
        headers["x-tiergate-degraded"] = report.degraded
    return headers


def cost_headers(cost: Cost) -> dict[str, str]:
    return {
        "x-tiergate-cost-usd": format_usd(cost.usd),
        "x-tiergate-baseline-cost-usd": format_usd(cost.baseline_usd),
        "x-tiergate-saving-usd": format_usd(cost.saving_usd),
    }

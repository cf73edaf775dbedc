"""Errors of tenancy, budgets and feedback; children of the one tree in `domain.errors`."""

from __future__ import annotations

from domain.errors import (
    AuthenticationFailed,
    BudgetExceeded,
    GatewayError,
    InvalidRequest,
    RateLimited,
)


class MaxCostExceeded(InvalidRequest):
    """Even the economy tier's worst case is above the caller's `x-tiergate-max-cost-usd`."""

    code = "max_cost_exceeded"


class UnknownRequestId(InvalidRequest):
    """Feedback for a request id this gateway did not serve, forgot, or already has a rating for."""

    code = "unknown_request_id"


class PermissionDenied(AuthenticationFailed):
    """A valid key that may not do this (e.g. a non-admin tenant restoring a demoted model)."""

    code = "permission_denied"


class StoreUnavailable(GatewayError):
    """The spend, limit or quality store cannot be reached; governance fails open on it."""

    code = "store_unavailable"


class HardLimitReached(BudgetExceeded):
    """A hard spend limit is reached; `retry_after_s` runs until its window (day/month) ends."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class TenantRateLimited(RateLimited):
    """RPM or TPM exhausted; `headers` are the x-ratelimit-* values to send with the 429."""

    def __init__(self, message: str, *, retry_after_s: float, headers: dict[str, str]) -> None:
        super().__init__(message, retry_after_s=retry_after_s)
        self.headers = headers

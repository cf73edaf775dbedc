"""The gateway's error tree; the app layer maps each class to an HTTP status once."""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error the gateway reports to a caller."""

    code: str = "gateway_error"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class InvalidRequest(GatewayError):
    code = "invalid_request"


class ContextLengthExceeded(InvalidRequest):
    code = "context_length_exceeded"


class ModelNotFound(GatewayError):
    code = "model_not_found"


class AuthenticationFailed(GatewayError):
    code = "invalid_api_key"


class BudgetExceeded(GatewayError):
    code = "budget_exceeded"


class RateLimited(GatewayError):
    code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class UpstreamError(GatewayError):
    """An upstream attempt failed; `retryable` says whether the same call may be tried again.
    `upstream_code` and `param` are what the upstream's own error body said, if anything."""

    code = "upstream_error"
    retryable: bool = False
    # Another model could serve the request (e.g. context too long for this one, model retired).
    other_model_may_serve: bool = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after_s: float | None = None,
        upstream: str | None = None,
        upstream_code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message, param=param)
        self.status = status
        self.retry_after_s = retry_after_s
        self.upstream = upstream
        self.upstream_code = upstream_code

    @property
    def judges_the_request(self) -> bool:
        """A verdict on the request (bad, too long, unknown model), relayed to the caller as is
        rather than blamed on the upstream. Only an HTTP answer can be one."""
        return False


class UpstreamHTTPError(UpstreamError):
    """The upstream answered with a non-2xx status."""

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return self.status in RETRYABLE_STATUSES

    @property
    def judges_the_request(self) -> bool:
        return self.status in VERDICT_STATUSES

    @property
    def other_model_may_serve(self) -> bool:  # type: ignore[override]
        # Bad input and bad credentials stay bad on every model; a prompt too long for this
        # model's window (our estimate was off) or a model it no longer serves is not bad input.
        if self.upstream_code in MODEL_SPECIFIC_CODES:
            return True
        return self.status not in (400, 401, 403, 422)


class UpstreamTimeout(UpstreamError):
    code = "upstream_timeout"
    retryable = True


class UpstreamConnectionError(UpstreamError):
    code = "upstream_unreachable"
    retryable = True


class EmptyCompletion(UpstreamError):
    """The upstream answered 200 with no text and no tool call."""

    code = "empty_completion"


class StreamInterrupted(UpstreamError):
    """The upstream stream broke after content had already reached the client."""

    code = "stream_interrupted"


class NoCandidateAvailable(GatewayError):
    """Every candidate in the plan failed or was skipped."""

    code = "no_healthy_upstream"

    def __init__(self, message: str, *, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
VERDICT_STATUSES = frozenset({400, 404, 413, 422})
# Upstream error codes that are about the model, not the request: another model may serve it.
MODEL_SPECIFIC_CODES = frozenset({"context_length_exceeded", "model_not_found"})

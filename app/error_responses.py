"""The one table from errors to HTTP responses in OpenAI's error shape. Never a stack trace."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from app.schemas import ErrorBody, ErrorDetail
from domain import errors
from domain.governance_errors import PermissionDenied, StoreUnavailable

logger = logging.getLogger(__name__)
_encoder = msgspec.json.Encoder()

# (status, OpenAI error type), most specific class first.
_ERROR_TABLE: tuple[tuple[type[errors.GatewayError], int, str], ...] = (
    (errors.InvalidRequest, 400, "invalid_request_error"),
    (errors.ModelNotFound, 404, "invalid_request_error"),
    (PermissionDenied, 403, "permission_error"),
    (errors.AuthenticationFailed, 401, "authentication_error"),
    (StoreUnavailable, 503, "service_unavailable"),
    (errors.BudgetExceeded, 429, "insufficient_quota"),
    (errors.RateLimited, 429, "rate_limit_error"),
    (errors.NoCandidateAvailable, 503, "service_unavailable"),
    (errors.UpstreamTimeout, 504, "timeout_error"),
    (errors.UpstreamError, 502, "upstream_error"),
    (errors.GatewayError, 500, "server_error"),
)

_CLIENT_STATUS_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    429: "rate_limit_error",
}


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """An error answer, ready for any responder: Litestar's handlers or the raw chat route."""

    status: int
    body: bytes
    headers: dict[str, str]


def error_reply(
    status: int,
    message: str,
    *,
    error_type: str,
    code: str | None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> ErrorReply:
    body = ErrorBody(error=ErrorDetail(message=message, type=error_type, param=param, code=code))
    return ErrorReply(status=status, body=_encoder.encode(body), headers=headers or {})


def gateway_error_reply(exc: errors.GatewayError) -> ErrorReply:
    if (verdict := _relayed_verdict(exc)) is not None:
        # The upstream judged the request itself: relay its verdict rather than blame it.
        return error_reply(
            verdict.status or 400,
            exc.message,
            error_type="invalid_request_error",
            code=verdict.upstream_code or exc.code,
            param=verdict.param,
        )
    status, error_type = _status_of(exc)
    headers: dict[str, str] = {}
    retry_after = getattr(exc, "retry_after_s", None)
    if status in (429, 503):
        headers["retry-after"] = str(max(1, math.ceil(retry_after or 1)))
    headers |= getattr(exc, "headers", None) or {}
    return error_reply(
        status, exc.message, error_type=error_type, code=exc.code, param=exc.param, headers=headers
    )


def handle_gateway_error(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    assert isinstance(exc, errors.GatewayError)
    return _as_response(gateway_error_reply(exc))


def handle_http_exception(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status >= 500 and exc.detail == _BODY_READ_DISCONNECT:
        return _as_response(client_closed_reply())
    if status >= 500:
        return handle_unexpected(_, exc)
    param = None
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list) and exc.extra:
        first = exc.extra[0]
        param = first.get("key") if isinstance(first, dict) else None
    reply = error_reply(
        status,
        exc.detail,
        error_type=_CLIENT_STATUS_TYPES.get(status, "invalid_request_error"),
        code=_http_code(status),
        param=param,
    )
    return _as_response(reply)


# What Litestar raises (as a 500) when the client hangs up while its body is being read.
_BODY_READ_DISCONNECT = "client disconnected prematurely"
CLIENT_CLOSED_REQUEST = 499  # nginx's status for it: nobody reads it, metrics and logs do


def client_closed_reply() -> ErrorReply:
    """Not the gateway's failure: no stack trace, and not a 5xx in the metrics."""
    logger.info("client closed the connection before its request body arrived")
    return error_reply(
        CLIENT_CLOSED_REQUEST,
        "The client closed the connection before sending its request.",
        error_type="invalid_request_error",
        code="client_closed_request",
    )


def handle_unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    return _as_response(unexpected_error_reply(exc))


def unexpected_error_reply(exc: BaseException) -> ErrorReply:
    logger.error("unhandled error: %s", type(exc).__name__, exc_info=exc)
    return error_reply(
        500, "The gateway hit an internal error.", error_type="server_error", code="internal_error"
    )


def _as_response(reply: ErrorReply) -> Response[bytes]:
    return Response(
        reply.body,
        status_code=reply.status,
        media_type="application/json",
        headers=reply.headers or None,
    )


def _relayed_verdict(exc: errors.GatewayError) -> errors.UpstreamError | None:
    if isinstance(exc, errors.UpstreamError) and exc.judges_the_request:
        return exc
    return None


def _status_of(exc: errors.GatewayError) -> tuple[int, str]:
    for error_class, status, error_type in _ERROR_TABLE:
        if isinstance(exc, error_class):
            return status, error_type
    return 500, "server_error"


def _http_code(status: int) -> str:
    return {
        404: "not_found",
        405: "method_not_allowed",
        413: "request_too_large",
        415: "unsupported_media_type",
        429: "rate_limit_exceeded",
    }.get(status, "invalid_request")

"""What the core decided for one request, independent of how it is delivered."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.simulator.faults import FaultKind
from adapters.simulator.wire import ErrorBody, ErrorDetail, encoder

_ERROR_KINDS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "invalid_request"),
    404: ("invalid_request_error", "model_not_found"),
    408: ("server_error", "timeout"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", "internal_error"),
    502: ("server_error", "bad_gateway"),
    503: ("server_error", "service_unavailable"),
    504: ("server_error", "timeout"),
}


@dataclass(frozen=True, slots=True)
class Reply:
    """A 200 JSON body, delivered after `delay_s`; `cut` drops the connection mid-body."""

    body: bytes
    delay_s: float = 0.0
    cut: bool = False


@dataclass(frozen=True, slots=True)
class StreamReply:
    """SSE data payloads (without `data: ` and `[DONE]`), the first after `ttft_s`.

    `gaps_s[i]` is the pause before `chunks[i + 1]` (empty when the stream is instant);
    with `cut_after` set, the connection drops after that many chunks.
    """

    chunks: tuple[bytes, ...]
    ttft_s: float = 0.0
    gaps_s: tuple[float, ...] = ()
    cut_after: int | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    """A non-2xx answer with OpenAI's error body."""

    status: int
    message: str
    body: bytes
    retry_after_s: float | None = None
    delay_s: float = 0.0
    code: str | None = None
    param: str | None = None


@dataclass(frozen=True, slots=True)
class Disruption:
    """No HTTP answer at all: DOWN and RESET drop the connection, HANG never answers."""

    kind: FaultKind


Outcome = Reply | StreamReply | Failure | Disruption


def failure(
    status: int,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    retry_after_s: float | None = None,
    delay_s: float = 0.0,
) -> Failure:
    error_type, default_code = _ERROR_KINDS.get(status, ("server_error", "upstream_error"))
    detail = ErrorDetail(message=message, type=error_type, code=code or default_code, param=param)
    return Failure(
        status=status,
        message=message,
        body=encoder.encode(ErrorBody(error=detail)),
        retry_after_s=retry_after_s,
        delay_s=delay_s,
        code=detail.code,
        param=param,
    )

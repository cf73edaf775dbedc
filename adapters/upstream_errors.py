"""Translating httpx failures and upstream error responses into the domain's UpstreamError tree."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import httpx
import msgspec

from adapters.error_translation import ErrorTranslation
from domain.errors import UpstreamConnectionError, UpstreamError, UpstreamHTTPError, UpstreamTimeout


class _ErrorDetail(msgspec.Struct):
    message: str | None = None
    code: str | int | None = None
    param: str | None = None


class _ErrorEnvelope(msgspec.Struct):
    error: _ErrorDetail | str | None = None


_error_decoder = msgspec.json.Decoder(_ErrorEnvelope)


class translated_errors(ErrorTranslation):
    """httpx's exceptions as the domain's `UpstreamError`s."""

    __slots__ = ("_upstream",)

    def __init__(self, upstream: str) -> None:
        self._upstream = upstream

    def translated(self, exc: BaseException) -> BaseException | None:
        upstream, name = self._upstream, type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            return UpstreamTimeout(f"upstream {upstream} timed out ({name})", upstream=upstream)
        if isinstance(exc, httpx.TransportError | httpx.StreamError):
            return UpstreamConnectionError(
                f"upstream {upstream} connection failed ({name})", upstream=upstream
            )
        return None


def http_error(response: httpx.Response, upstream: str) -> UpstreamError:
    detail = _upstream_detail(response.content)
    message = f"upstream {upstream} answered {response.status_code}"
    return UpstreamHTTPError(
        f"{message}: {detail.message}" if detail.message else message,
        status=response.status_code,
        retry_after_s=retry_after_seconds(response.headers),
        upstream=upstream,
        upstream_code=_text(detail.code),
        param=_text(detail.param),
    )


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """`retry-after-ms` first (OpenAI's, more precise), then `Retry-After` (seconds or a date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(float(millis) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    date = headers.get("date")
    now = parsedate_to_datetime(date) if date else None
    if now is None:
        return None
    return max((when - now).total_seconds(), 0.0)


def _upstream_detail(body: bytes) -> _ErrorDetail:
    """What an OpenAI-shaped error body says (message cut to 300 characters); empty otherwise."""
    try:
        envelope = _error_decoder.decode(body)
    except msgspec.DecodeError:
        return _ErrorDetail()
    if isinstance(envelope.error, str):
        return _ErrorDetail(message=envelope.error[:300])
    if envelope.error is None:
        return _ErrorDetail()
    detail = envelope.error
    return _ErrorDetail(message=(detail.message or "")[:300], code=detail.code, param=detail.param)


def _text(value: str | int | None) -> str | None:
    return None if value is None or value == "" else str(value)[:100]

"""Translating httpx failures and upstream error responses into the domain's UpstreamError tree."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import parsedate_to_datetime

import httpx
import msgspec

from domain.errors import UpstreamConnectionError, UpstreamError, UpstreamHTTPError, UpstreamTimeout


class _ErrorDetail(msgspec.Struct):
    message: str | None = None
    code: str | int | None = None


class _ErrorEnvelope(msgspec.Struct):
    error: _ErrorDetail | str | None = None


_error_decoder = msgspec.json.Decoder(_ErrorEnvelope)


@contextmanager
def translated_errors(upstream: str) -> Iterator[None]:
    try:
        yield
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout(
            f"upstream {upstream} timed out ({type(exc).__name__})", upstream=upstream
        ) from exc
    except (httpx.TransportError, httpx.StreamError) as exc:
        raise UpstreamConnectionError(
            f"upstream {upstream} connection failed ({type(exc).__name__})", upstream=upstream
        ) from exc


def http_error(response: httpx.Response, upstream: str) -> UpstreamError:
    detail = _upstream_message(response.content)
    message = f"upstream {upstream} answered {response.status_code}"
    return UpstreamHTTPError(
        f"{message}: {detail}" if detail else message,
        status=response.status_code,
        retry_after_s=retry_after_seconds(response.headers),
        upstream=upstream,
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


def _upstream_message(body: bytes) -> str:
    try:
        envelope = _error_decoder.decode(body)
    except msgspec.DecodeError:
        return ""
    if isinstance(envelope.error, str):
        return envelope.error[:300]
    if envelope.error is not None and envelope.error.message:
        return envelope.error.message[:300]
    return ""

"""failure_label: a bounded name for why an attempt failed, for metric labels and `error.type`."""

from __future__ import annotations

import asyncio

from domain.errors import GatewayError, UpstreamHTTPError


def failure_label(error: BaseException) -> str:
    """The error's code (a class constant), with HTTP failures grouped by status class.

    Never the message: upstream error text can quote the request.
    """
    if isinstance(error, UpstreamHTTPError):
        status = error.status
        if status is None:
            return "http_error"
        if status == 429:
            return "http_429"
        return "http_5xx" if status >= 500 else "http_4xx"
    if isinstance(error, GatewayError):
        return error.code
    if isinstance(error, (asyncio.CancelledError, GeneratorExit)):
        return "cancelled"
    return "internal_error"

"""Server-sent events framing for OpenAI-style streams."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from app.schemas import ErrorBody, ErrorDetail
from domain.pricing import Cost, format_usd

DONE = b"data: [DONE]\n\n"
_raw_fields_decoder = msgspec.json.Decoder(dict[str, msgspec.Raw])
_encoder = msgspec.json.Encoder()


def event(payload: bytes) -> bytes:
    return b"data: " + payload + b"\n\n"


def events(payloads: list[bytes]) -> bytes:
    """The payloads as consecutive events, framed in one join."""
    return b"data: " + b"\n\ndata: ".join(payloads) + b"\n\n" if payloads else b""


def error_event(message: str, *, error_type: str, code: str) -> bytes:
    """An error the OpenAI SDKs raise: a data event whose JSON has an `error` key."""
    body = ErrorBody(error=ErrorDetail(message=message, type=error_type, param=None, code=code))
    return event(_encoder.encode(body))


def with_cost(payload: bytes, cost: Cost) -> bytes:
    """The usage chunk with `usage.cost` added (as OpenRouter does), every other field untouched."""
    fields = _raw_fields_decoder.decode(payload)
    usage = _raw_fields_decoder.decode(fields["usage"])
    usage["cost"] = _number(cost.usd)
    usage["cost_details"] = msgspec.Raw(
        b'{"baseline_cost":%s,"saving":%s}' % (_number(cost.baseline_usd), _number(cost.saving_usd))
    )
    fields["usage"] = msgspec.Raw(_encoder.encode(usage))
    return _encoder.encode(fields)


def _number(amount: Decimal) -> msgspec.Raw:
    return msgspec.Raw(format_usd(amount).encode())

"""A streamed answer's cost: `usage.cost` and `cost_details.baseline_cost` of its last chunk."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

# Money arrives as JSON numbers printed with 10 decimals: read them as Decimal, never float.
_decoder = msgspec.json.Decoder(float_hook=Decimal)


class StreamUsage:
    """Fed one SSE line at a time; keeps the cost from the usage chunk and any error event."""

    __slots__ = ("baseline_cost", "cost", "error")

    def __init__(self) -> None:
        self.cost: Decimal | None = None
        self.baseline_cost: Decimal | None = None
        self.error: str | None = None

    def add_line(self, line: str) -> None:
        if not line.startswith("data:"):
            return
        payload = line[5:].strip()
        if not payload or payload == "[DONE]":
            return
        try:
            chunk = _decoder.decode(payload)
        except msgspec.DecodeError:
            self.error = "malformed stream chunk"
            return
        if not isinstance(chunk, dict):
            return
        if "error" in chunk:
            self.error = f"stream {_error_code(chunk['error'])}"
        usage = chunk.get("usage")
        if isinstance(usage, dict) and "cost" in usage:
            self.cost = _money(usage.get("cost"))
            details = usage.get("cost_details")
            if isinstance(details, dict):
                self.baseline_cost = _money(details.get("baseline_cost"))


def _money(value: Any) -> Decimal | None:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return None


def _error_code(error: Any) -> str:
    return str(error.get("code") or "error") if isinstance(error, dict) else "error"

"""Reading a workload: one OpenAI chat request per JSONL line, plus a few replay-only fields."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgspec

REPLAY_FIELDS = ("tenant", "api_key", "feature", "delay_ms")
_fields_decoder = msgspec.json.Decoder(dict[str, msgspec.Raw])
_encoder = msgspec.json.Encoder()


class WorkloadError(ValueError):
    """A line that is not a JSON object, or a replay field of the wrong type."""


@dataclass(frozen=True, slots=True)
class WorkloadRequest:
    line: int
    body: bytes  # the chat request as sent: replay fields removed
    stream: bool
    tenant: str | None = None
    api_key: str | None = None
    feature: str | None = None
    delay_ms: float = 0.0


def load_workload(path: Path, *, seed: int | None = None) -> list[WorkloadRequest]:
    """Every non-blank line of `path`; `seed` fills the body's `seed` where it has none."""
    requests: list[WorkloadRequest] = []
    with path.open("rb") as lines:
        for number, text in enumerate(lines, start=1):
            if text.strip():
                requests.append(parse_line(text, number, seed=seed))
    return requests


def parse_line(text: bytes, number: int, *, seed: int | None = None) -> WorkloadRequest:
    try:
        fields = _fields_decoder.decode(text)
    except msgspec.DecodeError as exc:
        raise WorkloadError(f"line {number}: not a JSON object ({exc})") from None
    extras = {
        name: _decode(fields.pop(name), number, name) for name in REPLAY_FIELDS if name in fields
    }
    stream = _decode(fields["stream"], number, "stream") is True if "stream" in fields else False
    if stream:
        # Streams report their cost only in the final usage chunk: always ask for it.
        options = _decode(
            fields.get("stream_options", msgspec.Raw(b"{}")), number, "stream_options"
        )
        options = options if isinstance(options, dict) else {}
        fields["stream_options"] = msgspec.Raw(_encoder.encode({**options, "include_usage": True}))
    if seed is not None and "seed" not in fields:
        fields["seed"] = msgspec.Raw(str(seed).encode())
    delay = extras.get("delay_ms", 0)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
        raise WorkloadError(f"line {number}: delay_ms must be a number of milliseconds >= 0")
    return WorkloadRequest(
        line=number,
        body=_encoder.encode(fields),
        stream=stream,
        tenant=_text(extras, "tenant", number),
        api_key=_text(extras, "api_key", number),
        feature=_text(extras, "feature", number),
        delay_ms=float(delay),
    )


def _decode(raw: msgspec.Raw, number: int, name: str) -> object:
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise WorkloadError(f"line {number}: {name}: {exc}") from None


def _text(extras: dict[str, object], name: str, number: int) -> str | None:
    value = extras.get(name)
    if value is None or isinstance(value, str):
        return value
    raise WorkloadError(f"line {number}: {name} must be a string")

"""What the simulator server has seen: counters and the last chat request, for tests."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, fields

import msgspec

_HIDDEN_HEADERS = frozenset({b"authorization", b"api-key", b"x-api-key"})


@dataclass(slots=True)
class LastRequest:
    path: str
    body: bytes
    headers: Iterable[tuple[bytes, bytes]]
    received_at: float

    def to_json(self) -> bytes:
        """Body as text and base64 (exact bytes); headers without credential values."""
        headers: dict[str, str] = {}
        present: list[str] = []
        for raw_name, raw_value in self.headers:
            name = raw_name.decode("latin-1")
            if raw_name in _HIDDEN_HEADERS:
                present.append(name)
                continue
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return msgspec.json.encode(
            {
                "path": self.path,
                "body": self.body.decode("utf-8", "replace"),
                "body_base64": base64.b64encode(self.body).decode("ascii"),
                "headers": headers,
                "authorization_present": "authorization" in present,
                "credential_headers_present": present,
                "received_at": self.received_at,
            }
        )


@dataclass(slots=True)
class SimulatorStats:
    requests: int = 0
    requests_by_model: dict[str, int] = field(default_factory=dict)
    responses_by_status: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)
    requests_with_authorization: int = 0
    embeddings_requests: int = 0
    streams_opened: int = 0
    streams_completed: int = 0
    streams_client_closed: int = 0
    streams_cut: int = 0
    last_request: LastRequest | None = None

    def record_chat(
        self,
        *,
        path: str,
        model: str,
        body: bytes,
        headers: list[tuple[bytes, bytes]],
        authorized: bool,
    ) -> None:
        self.requests += 1
        self.requests_by_model[model] = self.requests_by_model.get(model, 0) + 1
        if authorized:
            self.requests_with_authorization += 1
        self.last_request = LastRequest(path, body, headers, time.time())

    def record_status(self, status: int) -> None:
        key = str(status)
        self.responses_by_status[key] = self.responses_by_status.get(key, 0) + 1

    def record_fault(self, kind: str) -> None:
        self.faults[kind] = self.faults.get(kind, 0) + 1

    def record_cut(self) -> None:
        """A response (stream or body) deliberately dropped part-way."""
        self.streams_cut += 1
        self.record_fault("cut")

    def reset(self) -> None:
        fresh = SimulatorStats()
        for spec in fields(self):
            setattr(self, spec.name, getattr(fresh, spec.name))

    def to_json(self) -> bytes:
        counters = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "last_request"}
        return msgspec.json.encode(counters)

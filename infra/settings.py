"""Settings: the YAML config file decoded into validated msgspec Structs."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

PositiveFloat = Annotated[float, Meta(gt=0)]
PositiveInt = Annotated[int, Meta(gt=0)]
Price = Decimal  # non-negativity is checked when the catalog is built
CapabilityName = Literal["text", "vision", "audio", "tools", "json"]


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Config sections reject unknown keys so that typos fail loudly."""


class ServerSettings(_Strict):
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=0, le=65535)] = 8080
    max_body_bytes: PositiveInt = 4 * 1024 * 1024
    request_timeout_s: PositiveFloat = 120.0


class TimeoutSettings(_Strict):
    connect_s: PositiveFloat = 5.0
    read_s: PositiveFloat = 300.0
    write_s: PositiveFloat = 30.0
    pool_s: PositiveFloat = 5.0


class UpstreamSettings(_Strict):
    name: str
    base_url: str
    api_key_env: str | None = None
    api_key_file: str | None = None
    priority: int = 0
    # Empty means every catalog model; otherwise this upstream is a dedicated channel for these.
    models: list[str] = []
    timeouts: TimeoutSettings = msgspec.field(default_factory=TimeoutSettings)
    max_connections: PositiveInt = 512
    max_keepalive_connections: PositiveInt = 128


class SimulatorSettings(_Strict):
    seed: int = 0
    latency_scale: Annotated[float, Meta(ge=0)] = 1.0


class ModelSettings(_Strict):
    id: str
    family: str
    price_in: Price
    price_out: Price
    context_window: PositiveInt
    max_output: PositiveInt
    capabilities: list[CapabilityName] = msgspec.field(default_factory=lambda: ["text"])
    aliases: list[str] = []
    description: str = ""


class Settings(_Strict):
    server: ServerSettings = msgspec.field(default_factory=ServerSettings)
    # auto: the simulator unless some upstream has an API key available.
    upstream_mode: Literal["auto", "http", "simulated"] = "auto"
    upstreams: list[UpstreamSettings] = []
    simulator: SimulatorSettings = msgspec.field(default_factory=SimulatorSettings)
    baseline_model: str = "gpt-4o"
    catalog: list[ModelSettings] = []

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


class RouteSettings(_Strict):
    candidates: list[str]
    tier: Literal["economy", "standard", "premium"]
    max_output_tokens: PositiveInt | None = None
    cascade: bool = False


class KeywordRuleSettings(_Strict):
    keywords: list[str]
    route: str


class RoutingSettings(_Strict):
    routes: dict[str, RouteSettings] = {}
    task_routes: dict[str, str] = {}
    capability_routes: dict[str, str] = {}
    keyword_rules: list[KeywordRuleSettings] = []
    long_context_tokens: PositiveInt = 8_000
    long_context_route: str | None = None
    very_long_context_tokens: PositiveInt = 100_000
    very_long_context_route: str | None = None
    economy_below: Annotated[float, Meta(ge=0, le=1)] = 0.35
    premium_from: Annotated[float, Meta(ge=0, le=1)] = 0.70
    default_output_tokens: PositiveInt = 1024


class ResilienceSettings(_Strict):
    max_attempts_per_model: PositiveInt = 3
    base_delay_s: Annotated[float, Meta(ge=0)] = 0.2
    max_delay_s: Annotated[float, Meta(ge=0)] = 8.0
    max_retry_after_s: Annotated[float, Meta(ge=0)] = 30.0
    retry_budget_ratio: Annotated[float, Meta(ge=0)] = 0.2
    retry_budget_window_s: PositiveFloat = 10.0
    retry_budget_min_per_window: Annotated[int, Meta(ge=0)] = 10
    breaker_fail_max: PositiveInt = 5
    breaker_reset_timeout_s: PositiveFloat = 30.0
    upstream_cooldown_s: PositiveFloat = 30.0


class Settings(_Strict):
    server: ServerSettings = msgspec.field(default_factory=ServerSettings)
    # auto: the simulator unless some upstream has an API key available.
    upstream_mode: Literal["auto", "http", "simulated"] = "auto"
    upstreams: list[UpstreamSettings] = []
    simulator: SimulatorSettings = msgspec.field(default_factory=SimulatorSettings)
    baseline_model: str = "gpt-4o"
    catalog: list[ModelSettings] = []
    routing: RoutingSettings = msgspec.field(default_factory=RoutingSettings)
    resilience: ResilienceSettings = msgspec.field(default_factory=ResilienceSettings)

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
    max_keepalive_connections: PositiveInt = 128  # httpcore only: aiohttp keeps every one alive
    # Who moves the bytes under the shared httpx client: aiohttp's pool (default, ~2x cheaper
    # per request under load, docs/benchmarks.md) or httpx's own httpcore.
    transport: Literal["aiohttp", "httpcore"] = "aiohttp"


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


class SpendLimitSettings(_Strict):
    """USD per window; a soft limit downgrades to economy, a hard limit rejects (429)."""

    soft_usd: Decimal | None = None
    hard_usd: Decimal | None = None


class BudgetSettings(_Strict):
    daily: SpendLimitSettings = msgspec.field(default_factory=SpendLimitSettings)
    monthly: SpendLimitSettings = msgspec.field(default_factory=SpendLimitSettings)


class TenantSettings(_Strict):
    name: str
    # sha256 hex digests of the tenant's API keys (`printf %s "$KEY" | sha256sum`), inline
    # and/or in a mounted secret file holding one digest per line.
    key_sha256: list[str] = []
    key_sha256_file: str | None = None
    admin: bool = False  # may read every tenant's spend and restore demoted models
    requests_per_minute: PositiveInt | None = None
    tokens_per_minute: PositiveInt | None = None
    budget: BudgetSettings = msgspec.field(default_factory=BudgetSettings)
    features: dict[str, BudgetSettings] = {}  # per x-tiergate-feature tag, within this tenant


class QualitySettings(_Strict):
    window: PositiveInt = 50  # rolling quality is the mean of the last `window` scores
    min_samples: PositiveInt = 20
    demote_below: Annotated[float, Meta(ge=0, le=1)] = 0.8
    restore_at: Annotated[float, Meta(ge=0, le=1)] = 0.85
    # Evaluator sampling: this fraction of answers from an upstream (not cache hits; streams
    # once they completed) is scored 1-10 by `evaluator_model` in the background; the score,
    # scaled to [0, 1], joins the same rolling quality as caller feedback. 0 turns it off.
    evaluator_sample_rate: Annotated[float, Meta(ge=0, le=1)] = 0.0
    evaluator_model: str = "openai/gpt-4o"
    evaluator_max_in_flight: PositiveInt = 8  # more sampled answers than this are skipped
    evaluator_timeout_s: PositiveFloat = 30.0


class GovernanceSettings(_Strict):
    # memory: one process; redis: shared by every gateway process (URL from env or a file);
    # auto: redis when that URL is available, else memory.
    store: Literal["auto", "memory", "redis"] = "auto"
    redis_url_env: str = "TIERGATE_REDIS_URL"
    redis_url_file: str | None = None
    key_prefix: str = "tiergate"
    store_timeout_s: PositiveFloat = 0.25
    spend_retention_days: PositiveInt = 400
    tenants: list[TenantSettings] = []  # none at all: open mode, announced at start-up
    # Request ids kept for feedback in the memory store (~300 B each; Redis keeps them for
    # feedback_ttl_s instead). Older ids get 404 from /v1/feedback.
    recent_requests: PositiveInt = 10_000
    feedback_ttl_s: PositiveInt = 86_400  # Redis holds one small key per request this long
    quality: QualitySettings = msgspec.field(default_factory=QualitySettings)


class RouteCacheSettings(_Strict):
    enabled: bool = True
    max_temperature: Annotated[float, Meta(ge=0, le=2)] | None = None
    ttl_s: Annotated[float, Meta(gt=0, le=86_400)] | None = None
    semantic: bool | None = None
    semantic_threshold: Annotated[float, Meta(ge=0, le=1)] | None = None
    semantic_match_numbers: bool | None = None


class CacheSettings(_Strict):
    enabled: bool = True
    backend: Literal["memory", "redis"] = "memory"
    redis_url: str | None = None
    max_entries: PositiveInt = 10_000
    timeout_s: PositiveFloat = 0.05  # bounds each Redis call (memory has no I/O to bound)
    # Only answers this deterministic are cached; a request without `temperature` counts as
    # `absent_temperature` (OpenAI's default is 1).
    max_temperature: Annotated[float, Meta(ge=0, le=2)] = 0.3
    absent_temperature: Annotated[float, Meta(ge=0, le=2)] = 1.0
    ttl_by_tier: dict[str, Annotated[float, Meta(gt=0, le=86_400)]] = msgspec.field(
        default_factory=lambda: {"economy": 3600.0, "standard": 900.0, "premium": 900.0}
    )
    routes: dict[str, RouteCacheSettings] = {}
    semantic: bool = True
    semantic_threshold: Annotated[float, Meta(ge=0, le=1)] = 0.92
    # A semantic hit also needs the same numbers in the last user turn (docs/caching.md).
    semantic_match_numbers: bool = True
    semantic_max_entries: PositiveInt = 10_000
    embedding_model: str = "BAAI/bge-m3"
    # USD per million input tokens of embedding_model: each embedding the semantic cache asks
    # for is recorded as the tenant's spend (docs/caching.md). Set it to the aggregator's price.
    embedding_price_in: Price = Decimal("0.01")
    embedding_timeout_s: PositiveFloat = 0.3

    def __post_init__(self) -> None:
        if self.embedding_price_in < 0:
            raise ValueError("cache.embedding_price_in must not be negative")


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
    cache: CacheSettings = msgspec.field(default_factory=CacheSettings)
    governance: GovernanceSettings = msgspec.field(default_factory=GovernanceSettings)

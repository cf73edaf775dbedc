"""GatewayMetrics: tiergate's Prometheus metrics on their own registry, with bounded label values.

The metric names and labels are a contract: k8s/prometheus-adapter, the recording rules and the
Grafana dashboard query them (docs/metrics.md lists them all). Label values come from known sets
(catalog model ids, configured route and upstream names, fixed enums such as failure codes);
anything else is recorded as "other", so callers cannot create series by sending odd model names.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric

# Brackets the latency SLO (out above 2 s, in below 1.5 s) finely; see DESIGN section 9.
LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0,
    5.0, 7.5, 10.0, 15.0, 30.0, 60.0,
)  # fmt: skip
# The default HPA's target is 50 ms of gateway overhead at p99.
OVERHEAD_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

OTHER = "other"
NONE = "none"  # no value: a request that failed before routing, an attempt with no upstream
PINNED = "pinned"  # the route label when the caller named a catalog model instead of a route
ENDPOINTS = frozenset({"chat", "embeddings", "models", "route", "spend", "feedback", OTHER})
CACHE_RESULTS = frozenset({"hit", "semantic_hit", "miss", "bypass", "error"})
BREAKER_STATES = {"closed": 0, "half-open": 1, "open": 2}
# The classic text format; Litestar appends "; charset=utf-8" to text/* media types.
CONTENT_TYPE = "text/plain; version=0.0.4"

M = TypeVar("M", bound=MetricWrapperBase)


class _Children(Generic[M]):
    """A family's children by label values: bound on first use, then a dict lookup."""

    __slots__ = ("_children", "_family")

    def __init__(self, family: M) -> None:
        self._family = family
        self._children: dict[tuple[str, ...], M] = {}

    def __call__(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._family.labels(*values)
        return child


class GatewayMetrics:
    """The gateway's metric families; methods take raw values and bound them before labelling."""

    def __init__(
        self, *, models: Iterable[str], routes: Iterable[str], upstreams: Iterable[str]
    ) -> None:
        self.registry = r = CollectorRegistry()
        self._models = frozenset(models)
        self._routes = frozenset((*routes, PINNED, NONE))
        self._upstreams = frozenset(upstreams)
        self._duration = _Children(Histogram(
            "tiergate_request_duration_seconds",
            "Time from request start until the response (or the stream) ended.",
            ["endpoint", "stream"], buckets=LATENCY_BUCKETS, registry=r,
        ))  # fmt: skip
        self._overhead = _Children(Histogram(
            "tiergate_gateway_overhead_seconds",
            "Request time not spent waiting on an upstream: queueing plus processing.",
            ["endpoint"], buckets=OVERHEAD_BUCKETS, registry=r,
        ))  # fmt: skip
        self._first_chunk = _Children(Histogram(
            "tiergate_time_to_first_chunk_seconds",
            "Time from request start until the first body chunk of an event stream.",
            ["route"], buckets=LATENCY_BUCKETS, registry=r,
        ))  # fmt: skip
        self.in_flight = Gauge("tiergate_requests_in_flight", "Requests being served.", registry=r)
        self._requests = _Children(Counter(
            "tiergate_requests_total", "Requests served.",
            ["endpoint", "route", "model", "status"], registry=r,
        ))  # fmt: skip
        self._tokens = _Children(Counter(
            "tiergate_tokens_total", "Tokens billed by upstreams, every attempt included.",
            ["direction", "model", "route"], registry=r,
        ))  # fmt: skip
        self._cost = _Children(Counter(
            "tiergate_cost_usd_total", "Upstream spend in USD, every attempt included.",
            ["model", "route"], registry=r,
        ))  # fmt: skip
        self._baseline = _Children(Counter(
            "tiergate_baseline_cost_usd_total",
            "What the answers would have cost on the baseline model, in USD.",
            ["model", "route"], registry=r,
        ))  # fmt: skip
        self._cache = _Children(Counter(
            "tiergate_cache_lookups_total", "Response cache lookups.", ["result"], registry=r
        ))  # fmt: skip
        self._attempts = _Children(Counter(
            "tiergate_upstream_attempts_total", "Upstream attempts by outcome.",
            ["upstream", "model", "outcome"], registry=r,
        ))  # fmt: skip
        self._retries = _Children(Counter(
            "tiergate_retries_total", "Retries of the same model, by the failure before them.",
            ["reason"], registry=r,
        ))  # fmt: skip
        self._fallbacks = _Children(Counter(
            "tiergate_fallbacks_total", "Moves to the plan's next model, by cause.", ["reason"],
            registry=r,
        ))  # fmt: skip
        self._breaker = _Children(Gauge(
            "tiergate_breaker_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
            ["upstream", "model"], registry=r,
        ))  # fmt: skip
        # The series the autoscaling queries read exist from the start, at zero.
        for stream in ("false", "true"):
            self._duration("chat", stream)
        self._overhead("chat")

    def route_label(self, route: str | None) -> str:
        return NONE if route is None else route if route in self._routes else OTHER

    def model_label(self, model: str | None) -> str:
        return NONE if model is None else model if model in self._models else OTHER

    def upstream_label(self, upstream: str | None) -> str:
        return NONE if upstream is None else upstream if upstream in self._upstreams else OTHER

    def request_finished(
        self, *, endpoint: str, stream: bool, status: int, route: str | None, model: str | None,
        total_s: float, upstream_s: float, first_chunk_s: float | None,
    ) -> None:  # fmt: skip
        """One served request, of which `upstream_s` was spent waiting on upstreams."""
        endpoint = endpoint if endpoint in ENDPOINTS else OTHER
        route = self.route_label(route)
        self._duration(endpoint, "true" if stream else "false").observe(total_s)
        self._overhead(endpoint).observe(max(total_s - upstream_s, 0.0))
        if first_chunk_s is not None:
            self._first_chunk(route).observe(first_chunk_s)
        self._requests(endpoint, route, self.model_label(model), str(status)).inc()

    def attempt_finished(self, *, upstream: str | None, model: str, outcome: str) -> None:
        self._attempts(self.upstream_label(upstream), self.model_label(model), outcome).inc()

    def billed(
        self, *, model: str, route: str | None, input_tokens: int, output_tokens: int,
        cost_usd: Decimal,
    ) -> None:  # fmt: skip
        """One attempt's usage and what it cost."""
        model, route = self.model_label(model), self.route_label(route)
        if input_tokens:
            self._tokens("input", model, route).inc(input_tokens)
        if output_tokens:
            self._tokens("output", model, route).inc(output_tokens)
        if cost_usd:
            self._cost(model, route).inc(float(cost_usd))

    def answered(self, *, model: str, route: str | None, baseline_usd: Decimal, cache: str) -> None:
        """A request got its answer: the baseline it is compared with and how the cache fared
        (`cache` as in the x-tiergate-cache header: hit, semantic-hit, miss, bypass)."""
        model, route = self.model_label(model), self.route_label(route)
        self._baseline(model, route).inc(float(baseline_usd))
        result = cache.replace("-", "_")
        self._cache(result if result in CACHE_RESULTS else OTHER).inc()

    def cache_failed(self, operation: str, error: BaseException) -> None:
        """For the caches' `on_error(operation, error)` hook: the request went on uncached."""
        self._cache("error").inc()

    def retried(self, reason: str) -> None:
        self._retries(reason).inc()

    def fell_back(self, reason: str) -> None:
        self._fallbacks(reason).inc()

    def breaker_state_changed(self, upstream: str, model: str, state: str) -> None:
        """For the breaker registry's `on_state_change(upstream, model, state)` hook."""
        value = BREAKER_STATES.get(state.replace("_", "-"))
        if value is not None:
            self._breaker(self.upstream_label(upstream), self.model_label(model)).set(value)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format (`CONTENT_TYPE`)."""
        return generate_latest(_WithoutCreated(self.registry))


class _WithoutCreated:
    """The registry minus `*_created` samples: they would double the series and nobody reads them
    (prometheus_client's own switch for this is process-global)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        for family in self._registry.collect():
            family.samples = [s for s in family.samples if not s.name.endswith("_created")]
            yield family

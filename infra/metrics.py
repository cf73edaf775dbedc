"""GatewayMetrics: tiergate's Prometheus metrics on their own registry, with bounded label values.

The metric names and labels are a contract: k8s/prometheus-adapter, the recording rules and the
Grafana dashboard query them (docs/metrics.md lists them all). Label values come from known sets
(catalog model ids, configured route and upstream names, fixed enums such as failure codes);
anything else is recorded as "other", so callers cannot create series by sending odd model names.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from prometheus_client import CollectorRegistry, generate_latest

from infra.metric_families import CounterFamily, Families, GaugeFamily, HistogramFamily

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


class GatewayMetrics:
    """The gateway's metric families; methods take raw values and bound them before labelling."""

    def __init__(
        self, *, models: Iterable[str], routes: Iterable[str], upstreams: Iterable[str]
    ) -> None:
        self._models = frozenset(models)
        self._routes = frozenset((*routes, PINNED, NONE))
        self._upstreams = frozenset(upstreams)
        self._duration = HistogramFamily(
            "tiergate_request_duration_seconds",
            "Time from request start until the response (or the stream) ended.",
            ["endpoint", "stream"], LATENCY_BUCKETS,
        )  # fmt: skip
        self._overhead = HistogramFamily(
            "tiergate_gateway_overhead_seconds",
            "Request time not spent waiting on an upstream: queueing plus processing.",
            ["endpoint"], OVERHEAD_BUCKETS,
        )  # fmt: skip
        self._first_chunk = HistogramFamily(
            "tiergate_time_to_first_chunk_seconds",
            "Time from request start until the first body chunk of an event stream.",
            ["route"], LATENCY_BUCKETS,
        )  # fmt: skip
        self.in_flight = GaugeFamily("tiergate_requests_in_flight", "Requests being served.")
        self._requests = CounterFamily(
            "tiergate_requests_total", "Requests served.", ["endpoint", "route", "model", "status"]
        )
        self._tokens = CounterFamily(
            "tiergate_tokens_total", "Tokens billed by upstreams, every attempt included.",
            ["direction", "model", "route"],
        )  # fmt: skip
        self._cost = CounterFamily(
            "tiergate_cost_usd_total", "Upstream spend in USD, every attempt included.",
            ["model", "route"],
        )  # fmt: skip
        self._baseline = CounterFamily(
            "tiergate_baseline_cost_usd_total",
            "What the answers would have cost on the baseline model, in USD.",
            ["model", "route"],
        )  # fmt: skip
        self._cache = CounterFamily(
            "tiergate_cache_lookups_total", "Response cache lookups.", ["result"]
        )
        self._attempts = CounterFamily(
            "tiergate_upstream_attempts_total", "Upstream attempts by outcome.",
            ["upstream", "model", "outcome"],
        )  # fmt: skip
        self._retries = CounterFamily(
            "tiergate_retries_total", "Retries of the same model, by the failure before them.",
            ["reason"],
        )  # fmt: skip
        self._fallbacks = CounterFamily(
            "tiergate_fallbacks_total", "Moves to the plan's next model, by cause.", ["reason"]
        )
        self._breaker = GaugeFamily(
            "tiergate_breaker_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
            ["upstream", "model"],
        )  # fmt: skip
        self.registry = CollectorRegistry()
        self.registry.register(Families([
            self._duration, self._overhead, self._first_chunk, self.in_flight, self._requests,
            self._tokens, self._cost, self._baseline, self._cache, self._attempts, self._retries,
            self._fallbacks, self._breaker,
        ]))  # fmt: skip
        # The series the autoscaling queries read exist from the start, at zero.
        for stream in ("false", "true"):
            self._duration.child(("chat", stream))
        self._overhead.child(("chat",))

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
        self._duration.observe((endpoint, "true" if stream else "false"), total_s)
        self._overhead.observe((endpoint,), max(total_s - upstream_s, 0.0))
        if first_chunk_s is not None:
            self._first_chunk.observe((route,), first_chunk_s)
        self._requests.inc((endpoint, route, self.model_label(model), str(status)))

    def attempt_finished(self, *, upstream: str | None, model: str, outcome: str) -> None:
        self._attempts.inc((self.upstream_label(upstream), self.model_label(model), outcome))

    def billed(
        self, *, model: str, route: str | None, input_tokens: int, output_tokens: int,
        cost_usd: Decimal,
    ) -> None:  # fmt: skip
        """One attempt's usage and what it cost."""
        model, route = self.model_label(model), self.route_label(route)
        if input_tokens:
            self._tokens.inc(("input", model, route), input_tokens)
        if output_tokens:
            self._tokens.inc(("output", model, route), output_tokens)
        if cost_usd:
            self._cost.inc((model, route), float(cost_usd))

    def answered(self, *, model: str, route: str | None, baseline_usd: Decimal, cache: str) -> None:
        """A request got its answer: the baseline it is compared with and how the cache fared
        (`cache` as in the x-tiergate-cache header: hit, semantic-hit, miss, bypass)."""
        model, route = self.model_label(model), self.route_label(route)
        self._baseline.inc((model, route), float(baseline_usd))
        result = cache.replace("-", "_")
        self._cache.inc((result if result in CACHE_RESULTS else OTHER,))

    def cache_failed(self, operation: str, error: BaseException) -> None:
        """For the caches' `on_error(operation, error)` hook: the request went on uncached."""
        self._cache.inc(("error",))

    def retried(self, reason: str) -> None:
        self._retries.inc((reason,))

    def fell_back(self, reason: str) -> None:
        self._fallbacks.inc((reason,))

    def breaker_state_changed(self, upstream: str, model: str, state: str) -> None:
        """For the breaker registry's `on_state_change(upstream, model, state)` hook."""
        value = BREAKER_STATES.get(state.replace("_", "-"))
        if value is not None:
            self._breaker.set((self.upstream_label(upstream), self.model_label(model)), value)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format (`CONTENT_TYPE`)."""
        return generate_latest(self.registry)

"""GatewayMetrics: the names, buckets and labels the k8s manifests rely on; bounded label values."""

from __future__ import annotations

from decimal import Decimal

import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from infra.metrics import GatewayMetrics

MODEL = "Qwen/Qwen3-8B"
LATENCY = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5,
           7.5, 10, 15, 30, 60]  # fmt: skip
OVERHEAD = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
CHAT = {"endpoint": "chat"}
CHAT_NOT_STREAMED = {"endpoint": "chat", "stream": "false"}
ECONOMY = {"model": MODEL, "route": "economy"}


@pytest.fixture
def metrics() -> GatewayMetrics:
    return GatewayMetrics(models=[MODEL], routes=["auto", "economy"], upstreams=["primary"])


def samples(metrics: GatewayMetrics, name: str) -> list[Sample]:
    """Samples of `tiergate_<name>` as Prometheus would read them from /metrics."""
    text = metrics.exposition().decode()
    return [
        sample
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == f"tiergate_{name}"
    ]


def value(metrics: GatewayMetrics, name: str, **labels: str) -> float:
    found = [s.value for s in samples(metrics, name) if s.labels == labels]
    assert len(found) == 1, (name, labels, samples(metrics, name))
    return found[0]


def finish(metrics: GatewayMetrics, **overrides: object) -> None:
    arguments: dict[str, object] = dict(
        endpoint="chat", stream=False, status=200, route="economy", model=MODEL, total_s=0.3,
        upstream_s=0.29, first_chunk_s=None,
    )  # fmt: skip
    metrics.request_finished(**(arguments | overrides))  # type: ignore[arg-type]


def test_every_family_the_manifests_query_is_exported(metrics: GatewayMetrics) -> None:
    finish(metrics, stream=True, first_chunk_s=0.1)
    metrics.in_flight.inc()
    metrics.attempt_finished(upstream="primary", model=MODEL, outcome="ok")
    metrics.billed(**ECONOMY, input_tokens=3, output_tokens=4, cost_usd=Decimal("0.001"))
    metrics.answered(**ECONOMY, baseline_usd=Decimal("0.01"), cache="miss")
    metrics.retried("http_429")
    metrics.fell_back("http_5xx")
    metrics.breaker_state_changed("primary", MODEL, "open")
    text = metrics.exposition().decode()
    exported = {family.name for family in text_string_to_metric_families(text)}
    assert exported == {
        "tiergate_request_duration_seconds", "tiergate_gateway_overhead_seconds",
        "tiergate_time_to_first_chunk_seconds", "tiergate_requests_in_flight",
        "tiergate_requests", "tiergate_tokens", "tiergate_cost_usd", "tiergate_baseline_cost_usd",
        "tiergate_cache_lookups", "tiergate_upstream_attempts", "tiergate_retries",
        "tiergate_fallbacks", "tiergate_breaker_state",
    }  # fmt: skip
    for counter in ("requests", "tokens", "cost_usd", "baseline_cost_usd", "cache_lookups",
                    "upstream_attempts", "retries", "fallbacks"):  # fmt: skip
        assert f"\ntiergate_{counter}_total{{" in text
    assert "_created" not in text


@pytest.mark.parametrize(
    ("family", "labels", "buckets"),
    [
        ("request_duration_seconds", CHAT_NOT_STREAMED, LATENCY),
        ("gateway_overhead_seconds", CHAT, OVERHEAD),
        ("time_to_first_chunk_seconds", {"route": "economy"}, LATENCY),
    ],
)
def test_histogram_buckets_are_the_specified_seconds(
    metrics: GatewayMetrics, family: str, labels: dict[str, str], buckets: list[float]
) -> None:
    finish(metrics, stream=False, first_chunk_s=0.2)
    bounds = [
        sample.labels.pop("le")
        for sample in samples(metrics, family + "_bucket")
        if sample.labels.items() - {("le", sample.labels["le"])} == labels.items()
    ]
    assert [float(le) for le in bounds] == [*buckets, float("inf")]


def test_overhead_is_total_minus_upstream_wait_and_never_negative(metrics: GatewayMetrics) -> None:
    finish(metrics, total_s=0.5, upstream_s=0.45)
    finish(metrics, total_s=0.2, upstream_s=0.25)  # clock granularity can make wait > total
    assert value(metrics, "gateway_overhead_seconds_sum", **CHAT) == pytest.approx(0.05)
    assert value(metrics, "gateway_overhead_seconds_bucket", **CHAT, le="0.0005") == 1
    total = value(metrics, "request_duration_seconds_sum", **CHAT_NOT_STREAMED)
    assert total == pytest.approx(0.7)


def test_stream_label_is_lowercase_and_first_chunk_only_for_streams(
    metrics: GatewayMetrics,
) -> None:
    finish(metrics, stream=True, first_chunk_s=0.15)
    finish(metrics, stream=False)
    assert value(metrics, "request_duration_seconds_count", **CHAT, stream="true") == 1
    assert value(metrics, "request_duration_seconds_count", **CHAT_NOT_STREAMED) == 1
    assert value(metrics, "time_to_first_chunk_seconds_count", route="economy") == 1


def test_unknown_label_values_collapse_into_other_or_none(metrics: GatewayMetrics) -> None:
    finish(metrics, endpoint="/v1/evil", route="made-up-route", model="attacker/model-123")
    finish(metrics, route=None, model=None, status=400)
    metrics.attempt_finished(upstream="somewhere", model="unknown/model", outcome="ok")
    metrics.attempt_finished(upstream=None, model=MODEL, outcome="upstream_timeout")
    metrics.answered(**ECONOMY, baseline_usd=Decimal(0), cache="semantic-hit")
    metrics.answered(**ECONOMY, baseline_usd=Decimal(0), cache="weird")
    unknown = {"endpoint": "other", "route": "other", "model": "other", "status": "200"}
    assert value(metrics, "requests_total", **unknown) == 1
    unrouted = {"endpoint": "chat", "route": "none", "model": "none", "status": "400"}
    assert value(metrics, "requests_total", **unrouted) == 1
    stranger = {"upstream": "other", "model": "other", "outcome": "ok"}
    assert value(metrics, "upstream_attempts_total", **stranger) == 1
    nowhere = {"upstream": "none", "model": MODEL, "outcome": "upstream_timeout"}
    assert value(metrics, "upstream_attempts_total", **nowhere) == 1
    assert value(metrics, "cache_lookups_total", result="semantic_hit") == 1
    assert value(metrics, "cache_lookups_total", result="other") == 1
    text = metrics.exposition().decode()
    for raw in ("/v1/evil", "made-up-route", "attacker/model-123", "somewhere", "weird"):
        assert raw not in text


def test_pinned_routes_have_their_own_label(metrics: GatewayMetrics) -> None:
    metrics.billed(
        model=MODEL, route="pinned", input_tokens=10, output_tokens=0, cost_usd=Decimal(0)
    )
    assert value(metrics, "tokens_total", direction="input", model=MODEL, route="pinned") == 10
    assert [s.labels["direction"] for s in samples(metrics, "tokens_total")] == ["input"]
    assert samples(metrics, "cost_usd_total") == []


def test_cost_and_tokens_add_up(metrics: GatewayMetrics) -> None:
    for _ in range(3):
        metrics.billed(**ECONOMY, input_tokens=100, output_tokens=20, cost_usd=Decimal("0.0000042"))
    assert value(metrics, "tokens_total", direction="output", **ECONOMY) == 60
    assert value(metrics, "tokens_total", direction="input", **ECONOMY) == 300
    assert value(metrics, "cost_usd_total", **ECONOMY) == pytest.approx(0.0000126)


@pytest.mark.parametrize(("state", "expected"), [("closed", 0), ("half-open", 1), ("open", 2)])
def test_breaker_state_gauge(metrics: GatewayMetrics, state: str, expected: int) -> None:
    metrics.breaker_state_changed("primary", MODEL, "open")
    metrics.breaker_state_changed("primary", MODEL, state)
    metrics.breaker_state_changed("primary", MODEL, "no-such-state")  # ignored
    assert value(metrics, "breaker_state", upstream="primary", model=MODEL) == expected


def test_autoscaling_series_exist_before_any_request(metrics: GatewayMetrics) -> None:
    assert value(metrics, "gateway_overhead_seconds_count", **CHAT) == 0
    assert value(metrics, "request_duration_seconds_count", **CHAT_NOT_STREAMED) == 0
    assert value(metrics, "requests_in_flight") == 0


def test_each_instance_has_its_own_registry_not_the_global_one() -> None:
    first = GatewayMetrics(models=[], routes=[], upstreams=[])
    second = GatewayMetrics(models=[], routes=[], upstreams=[])
    first.in_flight.inc()
    assert value(first, "requests_in_flight") == 1
    assert value(second, "requests_in_flight") == 0
    assert b"tiergate_" not in prometheus_client.generate_latest(prometheus_client.REGISTRY)


def test_an_observation_on_a_bound_counts_in_that_bucket_and_the_buckets_are_cumulative(
    metrics: GatewayMetrics,
) -> None:
    finish(metrics, total_s=0.005)  # Prometheus' le: less than or equal
    finish(metrics, total_s=0.0051)
    finish(metrics, total_s=99.0)  # beyond every bound: +Inf only

    def bucket(le: str) -> float:
        return value(metrics, "request_duration_seconds_bucket", **CHAT_NOT_STREAMED, le=le)

    assert (bucket("0.005"), bucket("0.01"), bucket("60.0"), bucket("+Inf")) == (1, 2, 2, 3)
    assert value(metrics, "request_duration_seconds_count", **CHAT_NOT_STREAMED) == 3

"""infra.telemetry: the tracer provider follows the standard OTEL_* variables."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from infra.config_loader import ConfigError
from infra.telemetry import TracingSettings, build_tracer_provider, open_tracer_provider


def exporters_of(provider: trace.TracerProvider) -> list[object]:
    assert isinstance(provider, SdkTracerProvider)
    processors = provider._active_span_processor._span_processors  # no public accessor
    assert all(isinstance(p, BatchSpanProcessor) for p in processors)
    return [p.span_exporter for p in processors]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"OTEL_TRACES_EXPORTER": "none"},
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"},
    ],
)
def test_no_exporter_means_the_no_op_provider(env: dict[str, str]) -> None:
    provider = build_tracer_provider(TracingSettings.from_env(env))
    assert isinstance(provider, trace.NoOpTracerProvider)


@pytest.mark.parametrize(
    ("env", "exporter"),
    [
        ({"OTEL_TRACES_EXPORTER": "otlp"}, GrpcExporter),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, GrpcExporter),
        (
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
            HttpExporter,
        ),
        (
            {
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
            },
            HttpExporter,
        ),
        ({"OTEL_TRACES_EXPORTER": "console"}, ConsoleSpanExporter),
    ],
)
def test_exporter_and_protocol(env: dict[str, str], exporter: type) -> None:
    provider = build_tracer_provider(TracingSettings.from_env(env))
    try:
        assert [type(e) for e in exporters_of(provider)] == [exporter]
    finally:
        provider.shutdown()  # type: ignore[attr-defined]


def test_service_name_defaults_to_tiergate_and_can_be_set() -> None:
    assert TracingSettings.from_env({}).service_name == "tiergate"
    env = {"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "gw-eu"}
    provider = build_tracer_provider(TracingSettings.from_env(env))
    assert isinstance(provider, SdkTracerProvider)
    assert provider.resource.attributes["service.name"] == "gw-eu"
    provider.shutdown()


def test_sampler_from_env() -> None:
    settings = TracingSettings.from_env(
        {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"}
    )
    assert isinstance(settings.sampler, ParentBased)
    assert "TraceIdRatioBased{0.25}" in settings.sampler.get_description()
    ratio = TracingSettings.from_env({"OTEL_TRACES_SAMPLER": "traceidratio"}).sampler
    assert isinstance(ratio, TraceIdRatioBased)
    assert ratio.rate == 1.0


@pytest.mark.parametrize(
    "env",
    [
        {"OTEL_TRACES_EXPORTER": "zipkin"},
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
        {"OTEL_TRACES_SAMPLER": "sometimes"},
        {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"},
        {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"},
    ],
)
def test_bad_settings_fail_loudly(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        TracingSettings.from_env(env)


def test_the_container_resource_shuts_the_provider_down_and_flushes() -> None:
    resource = open_tracer_provider({"OTEL_TRACES_EXPORTER": "console"})
    provider = next(resource)
    exporter = exporters_of(provider)[0]
    assert isinstance(exporter, ConsoleSpanExporter)
    exported: list[str] = []
    exporter.export = lambda spans: exported.extend(s.name for s in spans) or 0  # type: ignore[method-assign]
    provider.get_tracer("test").start_span("queued").end()
    with pytest.raises(StopIteration):
        next(resource)
    assert exported == ["queued"]  # shutdown flushed the batch

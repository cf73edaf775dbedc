"""The OpenTelemetry TracerProvider, configured by the standard OTEL_* environment variables.

- `OTEL_TRACES_EXPORTER`: `none` (default), `otlp`, `console`, or a comma-separated list.
- `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL`: `grpc` (default) or
  `http/protobuf`. Endpoint, headers, timeout, compression and certificates
  (`OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`, ...) are read by the exporter itself.
- `OTEL_SERVICE_NAME` (default `tiergate`), `OTEL_RESOURCE_ATTRIBUTES`.
- `OTEL_TRACES_SAMPLER` (default `parentbased_always_on`) and `OTEL_TRACES_SAMPLER_ARG`.
- `OTEL_SDK_DISABLED=true` turns tracing off.

With no exporter the provider is the API's no-op one: spans cost nothing, and the caller's trace
context still reaches the upstream unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)

from infra.config_loader import ConfigError

_PROTOCOLS = ("grpc", "http/protobuf")


@dataclass(frozen=True, slots=True)
class TracingSettings:
    exporters: tuple[str, ...] = ()
    protocol: str = "grpc"
    service_name: str = "tiergate"
    sampler: Sampler = field(default_factory=lambda: ParentBased(ALWAYS_ON))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TracingSettings:
        if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
            return cls()
        names = env.get("OTEL_TRACES_EXPORTER", "none").lower().split(",")
        exporters = tuple(dict.fromkeys(n.strip() for n in names if n.strip() not in ("", "none")))
        for name in exporters:
            if name not in ("otlp", "console"):
                raise ConfigError(f"OTEL_TRACES_EXPORTER: unknown exporter {name!r}")
        protocol = (
            env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
            or "grpc"
        ).strip()
        if "otlp" in exporters and protocol not in _PROTOCOLS:
            raise ConfigError(f"OTLP protocol {protocol!r}: use grpc or http/protobuf")
        return cls(
            exporters=exporters,
            protocol=protocol,
            service_name=env.get("OTEL_SERVICE_NAME") or "tiergate",
            sampler=sampler_from_env(env),
        )


def sampler_from_env(env: Mapping[str, str]) -> Sampler:
    name = env.get("OTEL_TRACES_SAMPLER", "parentbased_always_on").strip().lower()
    raw_arg = env.get("OTEL_TRACES_SAMPLER_ARG", "").strip()
    try:
        ratio = float(raw_arg) if raw_arg else 1.0
    except ValueError:
        raise ConfigError(f"OTEL_TRACES_SAMPLER_ARG must be a number, got {raw_arg!r}") from None
    if not 0.0 <= ratio <= 1.0:
        raise ConfigError(f"OTEL_TRACES_SAMPLER_ARG must lie in [0, 1], got {ratio}")
    samplers: dict[str, Sampler] = {
        "always_on": ALWAYS_ON,
        "always_off": ALWAYS_OFF,
        "traceidratio": TraceIdRatioBased(ratio),
        "parentbased_always_on": ParentBased(ALWAYS_ON),
        "parentbased_always_off": ParentBased(ALWAYS_OFF),
        "parentbased_traceidratio": ParentBased(TraceIdRatioBased(ratio)),
    }
    if name not in samplers:
        raise ConfigError(f"OTEL_TRACES_SAMPLER: unknown sampler {name!r}")
    return samplers[name]


def build_tracer_provider(settings: TracingSettings) -> trace.TracerProvider:
    if not settings.exporters:
        return trace.NoOpTracerProvider()
    provider = SdkTracerProvider(
        sampler=settings.sampler,
        resource=Resource.create({SERVICE_NAME: settings.service_name}),
        shutdown_on_exit=False,  # the app's lifespan shuts it down, flushing what is queued
    )
    for name in settings.exporters:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name, settings.protocol)))
    return provider


def open_tracer_provider(env: Mapping[str, str] | None = None) -> Iterator[trace.TracerProvider]:
    """Container resource: the provider for the app's lifetime, flushed and shut down after."""
    provider = build_tracer_provider(TracingSettings.from_env(os.environ if env is None else env))
    try:
        yield provider
    finally:
        if isinstance(provider, SdkTracerProvider):
            provider.shutdown()


def _exporter(name: str, protocol: str) -> SpanExporter:
    # Imported on demand: the gRPC stack is slow to import and unused unless chosen.
    if name == "console":
        return ConsoleSpanExporter()
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpSpanExporter,
    )

    return HttpSpanExporter()

"""The composition root: the only module that wires concrete adapters to the use cases."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.pybreaker_breakers import PybreakerRegistry
from app.cache_factory import build_embedder, open_response_cache, open_semantic_index
from app.chat_endpoint import ChatEndpoint
from app.evaluator_factory import open_evaluator
from app.governance_factory import build_governance, open_governance_stores
from app.model_listing import model_list
from app.observability.chat_observer import TelemetryChatObserver
from app.observability.middleware import HttpTelemetry
from app.readiness import Readiness
from app.services.admission_gate import AdmissionGate
from app.services.answer_cache import AnswerCache
from app.services.chat import ChatService
from app.services.executor import PlanExecutor
from app.upstream_factory import build_upstream, open_http_clients
from app.upstream_status import UpstreamStatus
from domain.catalog import Catalog
from domain.retry_policy import RetryBudget, RetryPolicy
from infra.cache_builder import build_cache_policy
from infra.catalog_builder import baseline_model, build_catalog
from infra.metrics import GatewayMetrics
from infra.policy_builder import build_policy
from infra.settings import ResilienceSettings, Settings
from infra.telemetry import open_tracer_provider


def _retry_policy(resilience: ResilienceSettings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=resilience.max_attempts_per_model,
        base_delay_s=resilience.base_delay_s,
        max_delay_s=resilience.max_delay_s,
        max_retry_after_s=resilience.max_retry_after_s,
    )


def _retry_budget(resilience: ResilienceSettings) -> RetryBudget:
    return RetryBudget(
        ratio=resilience.retry_budget_ratio,
        window_s=resilience.retry_budget_window_s,
        min_per_window=resilience.retry_budget_min_per_window,
    )


def _route_names(settings: Settings) -> list[str]:
    return ["auto", *settings.routing.routes]


def _gateway_metrics(settings: Settings, catalog: Catalog) -> GatewayMetrics:
    upstreams = [upstream.name for upstream in settings.upstreams]
    return GatewayMetrics(
        models=[*(model.id for model in catalog), settings.cache.embedding_model],
        routes=_route_names(settings),
        upstreams=[*upstreams, "simulated"],  # "simulated": the in-process simulator's name
    )


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    catalog = providers.Singleton(build_catalog, settings)
    baseline = providers.Singleton(baseline_model, settings, catalog)
    policy = providers.Singleton(build_policy, settings.provided.routing, catalog)

    http_clients = providers.Resource(open_http_clients, settings)
    tracer_provider = providers.Resource(open_tracer_provider)
    metrics = providers.Singleton(_gateway_metrics, settings, catalog)
    http_telemetry = providers.Singleton(
        HttpTelemetry, metrics=metrics, tracer_provider=tracer_provider
    )
    chat_observer = providers.Singleton(
        TelemetryChatObserver, metrics=metrics, tracer_provider=tracer_provider
    )
    breakers = providers.Singleton(
        PybreakerRegistry,
        fail_max=settings.provided.resilience.breaker_fail_max,
        reset_timeout_s=settings.provided.resilience.breaker_reset_timeout_s,
        on_state_change=metrics.provided.breaker_state_changed,
    )
    upstream = providers.Singleton(build_upstream, settings, catalog, http_clients, breakers)

    executor = providers.Singleton(
        PlanExecutor,
        upstream=upstream,
        retry_policy=providers.Singleton(_retry_policy, settings.provided.resilience),
        retry_budget=providers.Singleton(_retry_budget, settings.provided.resilience),
        observer=chat_observer,
    )
    cache_policy = providers.Singleton(build_cache_policy, settings.provided.cache)
    response_cache = providers.Resource(
        open_response_cache, settings.provided.cache, metrics.provided.cache_failed
    )
    semantic_index = providers.Resource(
        open_semantic_index, settings.provided.cache, metrics.provided.cache_failed
    )
    embedder = providers.Singleton(
        build_embedder, settings.provided.cache, upstream, metrics.provided.cache_failed
    )
    answer_cache = providers.Singleton(
        AnswerCache,
        responses=response_cache,
        semantic=semantic_index,
        embedder=embedder,
        embedding_price_in=settings.provided.cache.embedding_price_in,
    )
    governance_stores = providers.Resource(open_governance_stores, settings)
    governance = providers.Singleton(build_governance, settings, governance_stores)
    admission_gate = providers.Singleton(AdmissionGate, governance=governance, policy=policy)
    evaluator = providers.Resource(
        open_evaluator, settings, catalog, baseline, upstream, governance
    )
    chat_service = providers.Singleton(
        ChatService,
        catalog=catalog,
        policy=policy,
        baseline=baseline,
        executor=executor,
        observer=chat_observer,
        cache_policy=cache_policy,
        answer_cache=answer_cache,
        gate=admission_gate,
        evaluator=evaluator,
    )
    chat_endpoint = providers.Singleton(
        ChatEndpoint,
        service=chat_service,
        governance=governance,
        request_timeout_s=settings.provided.server.request_timeout_s,
    )
    model_list = providers.Singleton(
        model_list, catalog, providers.Callable(_route_names, settings)
    )
    readiness = providers.Singleton(Readiness)
    upstream_status = providers.Singleton(UpstreamStatus, upstream=upstream, breakers=breakers)

"""The composition root: the only module that wires concrete adapters to the use cases."""

from __future__ import annotations

from dependency_injector import containers, providers

from app.model_listing import model_list
from app.readiness import Readiness
from app.services.chat import ChatService
from app.services.executor import PlanExecutor
from app.upstream_factory import build_upstream, open_http_clients
from domain.retry_policy import RetryBudget, RetryPolicy
from infra.catalog_builder import baseline_model, build_catalog
from infra.policy_builder import build_policy
from infra.settings import ResilienceSettings, Settings


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


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    catalog = providers.Singleton(build_catalog, settings)
    baseline = providers.Singleton(baseline_model, settings, catalog)
    policy = providers.Singleton(build_policy, settings.provided.routing, catalog)

    http_clients = providers.Resource(open_http_clients, settings)
    upstream = providers.Singleton(build_upstream, settings, catalog, http_clients)

    executor = providers.Singleton(
        PlanExecutor,
        upstream=upstream,
        retry_policy=providers.Singleton(_retry_policy, settings.provided.resilience),
        retry_budget=providers.Singleton(_retry_budget, settings.provided.resilience),
    )
    chat_service = providers.Singleton(
        ChatService, catalog=catalog, policy=policy, baseline=baseline, executor=executor
    )
    model_list = providers.Singleton(
        model_list, catalog, providers.Callable(_route_names, settings)
    )
    readiness = providers.Singleton(Readiness)

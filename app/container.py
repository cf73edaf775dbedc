"""The composition root: the only module that wires concrete adapters to the use cases."""

from __future__ import annotations

from dependency_injector import containers, providers

from app.model_listing import model_list
from app.readiness import Readiness
from app.services.chat import ChatService
from app.upstream_factory import build_upstream, open_http_clients
from infra.catalog_builder import baseline_model, build_catalog
from infra.settings import Settings


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    catalog = providers.Singleton(build_catalog, settings)
    baseline = providers.Singleton(baseline_model, settings, catalog)

    http_clients = providers.Resource(open_http_clients, settings)
    upstream = providers.Singleton(build_upstream, settings, catalog, http_clients)

    chat_service = providers.Singleton(
        ChatService, catalog=catalog, baseline=baseline, upstream=upstream
    )
    model_list = providers.Singleton(model_list, catalog, providers.Object([]))
    readiness = providers.Singleton(Readiness)

"""Turns the routing section of the settings into the domain's RoutingPolicy."""

from __future__ import annotations

from domain.catalog import Capability, Catalog
from domain.routing_policy import KeywordRule, Route, RoutingPolicy
from domain.tasks import TaskKind
from infra.config_loader import ConfigError
from infra.settings import RoutingSettings


def build_policy(routing: RoutingSettings, catalog: Catalog) -> RoutingPolicy:
    _check_candidates(routing, catalog)
    try:
        return RoutingPolicy(
            routes={
                name: Route(
                    name=name,
                    candidates=tuple(route.candidates),
                    tier=route.tier,
                    max_output_tokens=route.max_output_tokens,
                    cascade=route.cascade,
                )
                for name, route in routing.routes.items()
            },
            task_routes={TaskKind(task): route for task, route in routing.task_routes.items()},
            capability_routes={
                Capability(cap): route for cap, route in routing.capability_routes.items()
            },
            keyword_rules=tuple(
                KeywordRule(keywords=frozenset(k.lower() for k in rule.keywords), route=rule.route)
                for rule in routing.keyword_rules
            ),
            long_context_tokens=routing.long_context_tokens,
            long_context_route=routing.long_context_route,
            very_long_context_tokens=routing.very_long_context_tokens,
            very_long_context_route=routing.very_long_context_route,
            economy_below=routing.economy_below,
            premium_from=routing.premium_from,
            default_output_tokens=routing.default_output_tokens,
        )
    except ValueError as exc:
        raise ConfigError(f"invalid routing policy: {exc}") from None


def _check_candidates(routing: RoutingSettings, catalog: Catalog) -> None:
    for name, route in routing.routes.items():
        if catalog.find(name) is not None:
            raise ConfigError(f"route name {name!r} clashes with a catalog model name")
        if not route.candidates:
            raise ConfigError(f"route {name!r} has no candidates")
        unknown = [model for model in route.candidates if catalog.find(model) is None]
        if unknown:
            raise ConfigError(f"route {name!r} names models not in the catalog: {unknown}")

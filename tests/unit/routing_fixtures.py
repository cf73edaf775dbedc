"""The bundled catalog and routing policy, built once for routing tests."""

from __future__ import annotations

from functools import cache

from domain.catalog import Capability, Catalog
from domain.features import RequestFeatures
from domain.routing_policy import RoutingPolicy
from domain.tasks import TaskKind
from infra.catalog_builder import build_catalog
from infra.config_loader import load_settings
from infra.policy_builder import build_policy


@cache
def bundled() -> tuple[Catalog, RoutingPolicy]:
    settings = load_settings(env={})
    catalog = build_catalog(settings)
    return catalog, build_policy(settings.routing, catalog)


def features(
    *,
    tokens: int = 200,
    output: int | None = None,
    needs: frozenset[Capability] = frozenset({Capability.TEXT}),
    task: TaskKind = TaskKind.CHAT,
    complexity: float = 0.5,
    keywords: tuple[str, ...] = (),
    tier_hint: str | None = None,
) -> RequestFeatures:
    return RequestFeatures(
        input_tokens=tokens,
        requested_output=output,
        needs=needs,
        task=task,
        complexity=complexity,
        keyword_hits=keywords,
        tier_hint=tier_hint,
    )

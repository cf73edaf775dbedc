"""Turns the cache section of the settings into the domain's CacheKeyPolicy."""

from __future__ import annotations

from domain.cache_policy import CacheKeyPolicy, RouteCacheRule
from infra.config_loader import ConfigError
from infra.settings import CacheSettings


def build_cache_policy(cache: CacheSettings) -> CacheKeyPolicy:
    try:
        return CacheKeyPolicy(
            enabled=cache.enabled,
            max_temperature=cache.max_temperature,
            absent_temperature=cache.absent_temperature,
            ttl_by_tier=dict(cache.ttl_by_tier),
            routes={
                name: RouteCacheRule(
                    enabled=rule.enabled,
                    max_temperature=rule.max_temperature,
                    ttl_s=rule.ttl_s,
                    semantic=rule.semantic,
                    semantic_threshold=rule.semantic_threshold,
                    semantic_match_numbers=rule.semantic_match_numbers,
                )
                for name, rule in cache.routes.items()
            },
            semantic=cache.semantic,
            semantic_threshold=cache.semantic_threshold,
            semantic_match_numbers=cache.semantic_match_numbers,
        )
    except ValueError as exc:
        raise ConfigError(f"invalid cache settings: {exc}") from None

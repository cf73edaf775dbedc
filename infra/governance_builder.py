"""Turns the governance section of the settings into tenants, budgets, limits and the quality rule.

Key hashes may live in a mounted secret file; the Redis URL comes from the environment or a
file, never from the config itself.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from domain.budgets import Budget, SpendLimit
from domain.quality import QualityRule
from domain.rate_limits import RateLimit
from domain.tenants import Tenant, TenantDirectory, feature_tag
from infra.config_loader import ConfigError
from infra.settings import BudgetSettings, GovernanceSettings, TenantSettings

logger = logging.getLogger(__name__)


def build_directory(settings: GovernanceSettings) -> TenantDirectory:
    try:
        directory = TenantDirectory.of(
            (_tenant(entry), list(_key_hashes(entry))) for entry in settings.tenants
        )
    except ValueError as exc:
        raise ConfigError(f"invalid governance.tenants: {exc}") from None
    if directory.open_mode:
        logger.warning(
            "OPEN MODE: no tenant is configured (governance.tenants), so every caller is "
            "accepted without an API key as tenant 'default'. Configure tenants before exposing "
            "this gateway."
        )
    else:
        logger.info("tenants: %s", ", ".join(t.name for t in directory.tenants))
    return directory


def build_quality_rule(settings: GovernanceSettings) -> QualityRule:
    quality = settings.quality
    try:
        return QualityRule(
            window=quality.window,
            min_samples=quality.min_samples,
            demote_below=quality.demote_below,
            restore_at=quality.restore_at,
        )
    except ValueError as exc:
        raise ConfigError(f"invalid governance.quality: {exc}") from None


def redis_url(settings: GovernanceSettings, env: Mapping[str, str] | None = None) -> str | None:
    """The governance stores' Redis URL, or None for in-memory stores.

    `store: auto` uses Redis when a URL is available; `store: redis` without one is an error.
    """
    if settings.store == "memory":
        return None
    env = os.environ if env is None else env
    url = env.get(settings.redis_url_env, "").strip()
    if not url and settings.redis_url_file:
        url = _read_secret(Path(settings.redis_url_file)).strip()
    if url:
        logger.info("governance: budgets, limits and the spend ledger are shared in Redis")
        return url
    if settings.store == "auto":
        logger.info("governance: in-memory stores (this process only)")
        return None
    where = settings.redis_url_env + (
        f" or {settings.redis_url_file}" if settings.redis_url_file else ""
    )
    raise ConfigError(f"governance.store is redis but no URL is set ({where})")


def _tenant(entry: TenantSettings) -> Tenant:
    features = {feature_tag(name): _budget(budget) for name, budget in entry.features.items()}
    return Tenant(
        name=entry.name,
        budget=_budget(entry.budget),
        feature_budgets=features,
        rate_limit=RateLimit(entry.requests_per_minute, entry.tokens_per_minute),
        admin=entry.admin,
    )


def _budget(budget: BudgetSettings) -> Budget:
    return Budget(
        daily=SpendLimit(budget.daily.soft_usd, budget.daily.hard_usd),
        monthly=SpendLimit(budget.monthly.soft_usd, budget.monthly.hard_usd),
    )


def _key_hashes(entry: TenantSettings) -> Iterator[str]:
    yield from entry.key_sha256
    if entry.key_sha256_file:
        for line in _read_secret(Path(entry.key_sha256_file)).splitlines():
            digest = line.split("#", 1)[0].strip()
            if digest:
                yield digest


def _read_secret(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read secret file {path}: {exc.strerror}") from None

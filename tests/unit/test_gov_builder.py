"""From the governance config section to tenants, budgets, limits and the quality rule."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from adapters.memory_spend_store import MemorySpendStore
from app.governance_factory import (
    build_governance,
    memory_stores,
    open_governance_stores,
    spend_store_check,
)
from domain.budgets import SpendLimit
from domain.rate_limits import RateLimit
from domain.tenants import hash_key
from infra.config_loader import ConfigError, load_settings
from infra.governance_builder import build_directory, build_quality_rule, redis_url
from infra.settings import GovernanceSettings, Settings

CONFIG = """
governance:
  store: memory
  tenants:
    - name: search
      key_sha256: [{search_hash}]
      requests_per_minute: 600
      tokens_per_minute: 200000
      budget:
        daily: {{soft_usd: 40, hard_usd: 50.5}}
        monthly: {{hard_usd: 1000}}
      features:
        "query rewrite": {{daily: {{hard_usd: 5}}}}
    - name: finance
      admin: true
      key_sha256_file: {key_file}
  quality:
    window: 40
    min_samples: 10
"""


def settings_from(tmp_path: Path) -> Settings:
    key_file = tmp_path / "finance.sha256"
    key_file.write_text(
        f"# rotated 2025-03\n{hash_key('sk-fin-old')}\n{hash_key('sk-fin')}  # new\n"
    )
    config = tmp_path / "tiergate.yaml"
    config.write_text(CONFIG.format(search_hash=hash_key("sk-search"), key_file=key_file))
    return load_settings(config, env={})


def test_tenants_budgets_and_limits_from_yaml_and_a_mounted_key_file(tmp_path: Path) -> None:
    directory = build_directory(settings_from(tmp_path).governance)
    search = directory.identify("Bearer sk-search")
    assert search.rate_limit == RateLimit(600, 200_000)
    assert search.budget.daily == SpendLimit(Decimal(40), Decimal("50.5"))
    assert search.budget.monthly == SpendLimit(None, Decimal(1000))
    assert search.budget_for("query_rewrite").daily.hard_usd == Decimal(5)  # tag made safe
    assert directory.identify("Bearer sk-fin-old").admin
    assert directory.identify("Bearer sk-fin").name == "finance"


def test_quality_rule_from_settings(tmp_path: Path) -> None:
    rule = build_quality_rule(settings_from(tmp_path).governance)
    assert (rule.window, rule.min_samples, rule.demote_below, rule.restore_at) == (
        40,
        10,
        0.8,
        0.85,
    )
    with pytest.raises(ConfigError, match=r"governance\.quality"):
        build_quality_rule(msgspec.convert({"quality": {"min_samples": 60}}, GovernanceSettings))


def test_open_mode_is_announced_loudly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        directory = build_directory(GovernanceSettings())
    assert directory.open_mode
    assert "OPEN MODE" in caplog.text


@pytest.mark.parametrize(
    ("tenants", "message"),
    [
        ([{"name": "a"}], "without any key"),
        ([{"name": "a", "key_sha256": ["abc"]}], "64 lowercase hex"),
        ([{"name": "a", "key_sha256_file": "/nonexistent/keys"}], "cannot read secret file"),
        (
            [
                {
                    "name": "a",
                    "key_sha256": [hash_key("k")],
                    "budget": {"daily": {"soft_usd": 2, "hard_usd": 1}},
                }
            ],
            "above the hard limit",
        ),
    ],
)
def test_bad_tenant_config_is_a_config_error(tenants: list[object], message: str) -> None:
    settings = msgspec.convert({"tenants": tenants}, GovernanceSettings)
    with pytest.raises(ConfigError, match=message):
        build_directory(settings)


def test_unknown_governance_keys_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("governance:\n  tennants: []\n")
    with pytest.raises(ConfigError, match="tennants"):
        load_settings(config, env={})


def test_redis_url_from_env_or_file(tmp_path: Path) -> None:
    settings = GovernanceSettings(store="redis")
    assert redis_url(settings, {"TIERGATE_REDIS_URL": "redis://r:6379/0"}) == "redis://r:6379/0"
    secret = tmp_path / "redis-url"
    secret.write_text("redis://:pw@r:6379/1\n")
    from_file = GovernanceSettings(store="redis", redis_url_file=str(secret))
    assert redis_url(from_file, {}) == "redis://:pw@r:6379/1"
    with pytest.raises(ConfigError, match="no URL is set"):
        redis_url(settings, {})


def test_store_auto_uses_redis_only_when_a_url_is_set() -> None:
    auto = GovernanceSettings()
    assert auto.store == "auto"
    assert redis_url(auto, {}) is None
    assert redis_url(auto, {"TIERGATE_REDIS_URL": "redis://r"}) == "redis://r"
    assert (
        redis_url(GovernanceSettings(store="memory"), {"TIERGATE_REDIS_URL": "redis://r"}) is None
    )


async def test_memory_stores_and_service_wiring() -> None:
    settings = Settings()
    stores = memory_stores(settings.governance)
    assert isinstance(stores.spend, MemorySpendStore)
    service = build_governance(settings, stores)
    assert service.open_mode
    assert await spend_store_check(stores)() == "ok"
    resource = open_governance_stores(settings)
    opened = await anext(resource)
    assert isinstance(opened.spend, MemorySpendStore)
    await resource.aclose()


def test_only_stores_in_process_memory_settle_without_a_shield() -> None:
    settings = Settings()
    memory = memory_stores(settings.governance)
    assert not memory.wait
    assert not build_governance(settings, memory).admission._stores_wait

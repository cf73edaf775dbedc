"""Loading settings: the bundled default, a YAML file over it, then TIERGATE_* overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
import yaml

from infra.settings import Settings

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default_config.yaml")


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and why."""


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the bundled default, merge the file at `path` over it, then apply the environment."""
    env = os.environ if env is None else env
    path = path or env.get("TIERGATE_CONFIG")
    data = _read_yaml(DEFAULT_CONFIG_PATH)
    if path:
        data = _merge(data, _read_yaml(Path(path)))
    data = _apply_env(data, env)
    try:
        return msgspec.convert(data, Settings)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid configuration: {exc}") from None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top level")
    return loaded


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; any other value (lists included) replaces the base value."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    data = dict(data)
    server = dict(data.get("server") or {})
    # Not TIERGATE_PORT: Kubernetes service links define that for a Service named tiergate.
    if "TIERGATE_SERVER_HOST" in env:
        server["host"] = env["TIERGATE_SERVER_HOST"]
    if "TIERGATE_SERVER_PORT" in env:
        server["port"] = _as_int("TIERGATE_SERVER_PORT", env["TIERGATE_SERVER_PORT"])
    data["server"] = server
    if "TIERGATE_UPSTREAM_MODE" in env:
        data["upstream_mode"] = env["TIERGATE_UPSTREAM_MODE"]
    if "TIERGATE_UPSTREAM_BASE_URL" in env:
        data["upstreams"] = _with_primary_url(data.get("upstreams") or [], env)
    if "TIERGATE_REDIS_URL" in env:
        cache = dict(data.get("cache") or {})
        cache["backend"] = "redis"
        cache["redis_url"] = env["TIERGATE_REDIS_URL"]
        data["cache"] = cache
    if "TIERGATE_SIM_LATENCY_SCALE" in env:
        simulator = dict(data.get("simulator") or {})
        simulator["latency_scale"] = _as_float(
            "TIERGATE_SIM_LATENCY_SCALE", env["TIERGATE_SIM_LATENCY_SCALE"]
        )
        data["simulator"] = simulator
    return data


def _with_primary_url(upstreams: list[Any], env: Mapping[str, str]) -> list[Any]:
    """TIERGATE_UPSTREAM_BASE_URL replaces the first upstream's URL, or defines one."""
    url = env["TIERGATE_UPSTREAM_BASE_URL"]
    if not upstreams:
        return [{"name": "primary", "base_url": url, "api_key_env": "TIERGATE_UPSTREAM_API_KEY"}]
    first = dict(upstreams[0])
    first["base_url"] = url
    return [first, *upstreams[1:]]


def _as_int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from None


def _as_float(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None

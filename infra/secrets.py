"""Secrets come only from the environment or mounted files, never from the config file itself."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from infra.settings import UpstreamSettings


def upstream_api_key(
    upstream: UpstreamSettings, env: Mapping[str, str] | None = None
) -> str | None:
    env = os.environ if env is None else env
    if upstream.api_key_env and env.get(upstream.api_key_env):
        return env[upstream.api_key_env]
    if upstream.api_key_file:
        path = Path(upstream.api_key_file)
        if path.is_file():
            return path.read_text(encoding="utf-8").strip() or None
    return None

"""Shared by the Redis governance adapters: the client they use and one error translation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from domain.governance_errors import StoreUnavailable

SEPARATOR = "\x1f"  # inside hash fields and values; never part of a tenant, feature, route or model


def text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def redis_client(url: str, *, timeout_s: float) -> aioredis.Redis:
    """A client that fails fast: no retries, so a dead Redis costs one short timeout per call."""
    return aioredis.Redis.from_url(
        url,
        socket_connect_timeout=timeout_s,
        socket_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
    )


@asynccontextmanager
async def unavailable_on_error(store: str, operation: str, timeout_s: float) -> AsyncIterator[None]:
    """Every Redis failure, including our own deadline, becomes `StoreUnavailable`."""
    try:
        async with asyncio.timeout(timeout_s):
            yield
    except (RedisError, OSError, TimeoutError) as exc:
        raise StoreUnavailable(f"{store} {operation} failed: {type(exc).__name__}") from exc

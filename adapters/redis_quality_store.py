"""`QualityStore` on Redis, so that feedback may reach any pod and every pod sees demotions.

Request ids are strings with a TTL (GETDEL claims one exactly once); scores are capped lists
per (route, model), newest first; the known pairs and the demoted pairs are two sets.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

import redis.asyncio as aioredis

from adapters.redis_support import SEPARATOR, text, unavailable_on_error
from domain.quality import ServedRequest

_Pair = tuple[str, str]


class RedisQualityStore:
    def __init__(
        self,
        *,
        client: aioredis.Redis,
        prefix: str = "tiergate",
        request_ttl_s: int = 86_400,
        timeout_s: float = 0.5,
    ) -> None:
        self.client = client
        self._prefix = f"{prefix}:quality"
        self._ttl_s = request_ttl_s
        self._timeout_s = timeout_s

    async def remember(self, request_id: str, served: ServedRequest) -> None:
        value = SEPARATOR.join((served.tenant, served.route, served.model))
        async with self._guard("remember"):
            await self.client.set(self._request_key(request_id), value, ex=self._ttl_s)

    async def lookup(self, request_id: str) -> ServedRequest | None:
        async with self._guard("lookup"):
            value = await self.client.get(self._request_key(request_id))
        return _served(value)

    async def claim(self, request_id: str) -> ServedRequest | None:
        async with self._guard("claim"):
            value = await self.client.getdel(self._request_key(request_id))
        return _served(value)

    async def add_score(self, route: str, model: str, score: float, *, window: int) -> list[float]:
        key = self._scores_key((route, model))
        async with self._guard("add score"), self.client.pipeline(transaction=True) as pipe:
            pipe.lpush(key, repr(score))
            pipe.ltrim(key, 0, window - 1)
            pipe.sadd(f"{self._prefix}:pairs", _member((route, model)))
            pipe.lrange(key, 0, -1)
            *_, scores = await pipe.execute()
        return [float(value) for value in scores]

    async def scores(self) -> dict[_Pair, list[float]]:
        async with self._guard("scores"):
            members = sorted(await self.client.smembers(f"{self._prefix}:pairs"))
            async with self.client.pipeline(transaction=False) as pipe:
                for member in members:
                    pipe.lrange(self._scores_key(_pair(member)), 0, -1)
                lists = await pipe.execute()
        return {
            _pair(member): [float(value) for value in values]
            for member, values in zip(members, lists, strict=True)
            if values
        }

    async def demoted(self) -> frozenset[_Pair]:
        async with self._guard("demoted"):
            members = await self.client.smembers(f"{self._prefix}:demoted")
        return frozenset(_pair(member) for member in members)

    async def set_demoted(self, route: str, model: str, demoted: bool) -> None:
        key, member = f"{self._prefix}:demoted", _member((route, model))
        async with self._guard("set demoted"):
            if demoted:
                await self.client.sadd(key, member)
            else:
                await self.client.srem(key, member)

    async def reset(self, route: str, model: str) -> None:
        async with self._guard("reset"):
            await self.client.delete(self._scores_key((route, model)))

    def _guard(self, operation: str) -> AbstractAsyncContextManager[None]:
        return unavailable_on_error("quality store", operation, self._timeout_s)

    def _request_key(self, request_id: str) -> str:
        return f"{self._prefix}:request:{request_id}"

    def _scores_key(self, pair: _Pair) -> str:
        return f"{self._prefix}:scores:{_member(pair)}"


def _member(pair: _Pair) -> str:
    return SEPARATOR.join(pair)


def _pair(member: bytes | str) -> _Pair:
    route, _, model = text(member).partition(SEPARATOR)
    return route, model


def _served(value: bytes | str | None) -> ServedRequest | None:
    if value is None:
        return None
    tenant, route, model = text(value).split(SEPARATOR)
    return ServedRequest(tenant=tenant, route=route, model=model)

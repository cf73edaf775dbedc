"""`QualityStore` in process memory: a bounded map of recent request ids, scores per pair."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

from domain.quality import ServedRequest

_Pair = tuple[str, str]  # (route, model)
# (expires at, tenant, route, model): a tuple of strings and a float, which the cyclic garbage
# collector stops tracking, where a ServedRequest per entry would be walked by every full
# collection (up to `max_requests` of them; 10,000 as shipped).
_Entry = tuple[float, str, str, str]


class MemoryQualityStore:
    def __init__(
        self,
        *,
        max_requests: int = 100_000,
        request_ttl_s: float = 86_400,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_requests = max_requests
        self._ttl_s = request_ttl_s
        self._clock = clock
        self._recent: OrderedDict[str, _Entry] = OrderedDict()
        self._scores: dict[_Pair, deque[float]] = {}
        self._demoted: set[_Pair] = set()

    async def remember(self, request_id: str, served: ServedRequest) -> None:
        expires_at = self._clock() + self._ttl_s
        self._recent[request_id] = (expires_at, served.tenant, served.route, served.model)
        self._recent.move_to_end(request_id)
        while len(self._recent) > self._max_requests:
            self._recent.popitem(last=False)

    async def lookup(self, request_id: str) -> ServedRequest | None:
        entry = self._recent.get(request_id)
        if entry is None:
            return None
        expires_at, tenant, route, model = entry
        if expires_at <= self._clock():
            del self._recent[request_id]
            return None
        return ServedRequest(tenant=tenant, route=route, model=model)

    async def claim(self, request_id: str) -> ServedRequest | None:
        served = await self.lookup(request_id)
        self._recent.pop(request_id, None)
        return served

    async def add_score(self, route: str, model: str, score: float, *, window: int) -> list[float]:
        scores = self._scores.get((route, model))
        if scores is None or scores.maxlen != window:
            scores = deque(scores or (), maxlen=window)
            self._scores[(route, model)] = scores
        scores.appendleft(score)
        return list(scores)

    async def scores(self) -> dict[_Pair, list[float]]:
        return {pair: list(scores) for pair, scores in self._scores.items()}

    async def demoted(self) -> frozenset[_Pair]:
        return frozenset(self._demoted)

    async def set_demoted(self, route: str, model: str, demoted: bool) -> None:
        if demoted:
            self._demoted.add((route, model))
        else:
            self._demoted.discard((route, model))

    async def reset(self, route: str, model: str) -> None:
        self._scores.pop((route, model), None)

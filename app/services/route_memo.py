"""RouteMemo: the plan and cache decision of recent cacheable requests, by their exact bytes.

Routing and cache-key derivation are pure functions of the request body and a few call
settings (cache scope, tier hint, fallback switch, cache directives), so a request that repeats
byte for byte gets the same plan and the same key. Remembering them lets the repeat, which is
usually a cache hit, skip both: together they were ~30% of a hit's CPU (docs/benchmarks.md).
Only cacheable requests are remembered; everything that changes at run time (demotions,
budgets, open breakers) is applied to the plan after it comes from here.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import msgspec

from app.call_context import CallContext
from domain.cache_directives import CacheDirectives
from domain.cache_policy import CacheDecision
from domain.features import RequestFeatures
from domain.route_plan import RoutePlan

MemoKey = tuple[bytes, str, str | None, bool, CacheDirectives]


class Routed(msgspec.Struct, frozen=True):
    """A request's plan before admission, the features it was made from, and its cache
    decision (None when the service has no cache)."""

    plan: RoutePlan
    features: RequestFeatures
    decision: CacheDecision | None


class RouteMemo:
    """At most `capacity` entries, the least recently used evicted first. Keys hold a 128-bit
    digest of the body, not the body, so the memo's size does not depend on the requests'."""

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[MemoKey, Routed] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def key(body: bytes, ctx: CallContext) -> MemoKey:
        digest = hashlib.blake2b(body, digest_size=16).digest()
        return (digest, ctx.cache_scope, ctx.tier_hint, ctx.allow_fallback, ctx.cache)

    def get(self, key: MemoKey) -> Routed | None:
        routed = self._entries.get(key)
        if routed is not None:
            self._entries.move_to_end(key)
        return routed

    def remember(self, key: MemoKey, routed: Routed) -> None:
        if routed.decision is None or not routed.decision.lookup:
            return  # a request that can't be answered from cache gains nothing from a repeat
        self._entries[key] = routed
        self._entries.move_to_end(key)
        if len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

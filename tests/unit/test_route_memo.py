"""RouteMemo: what it remembers, under which key, and for how long."""

from __future__ import annotations

import time

from app.call_context import CallContext
from app.services.route_memo import Routed, RouteMemo
from domain.cache_directives import CacheDirectives
from domain.cache_policy import CacheDecision
from domain.features import RequestFeatures
from domain.route_plan import RoutePlan
from domain.tasks import TaskKind


def context(**changes: object) -> CallContext:
    fields: dict[str, object] = {
        "request_id": "r",
        "tenant": "t",
        "cache_scope": "t",
        "feature": "f",
        "deadline": time.monotonic() + 30,
    }
    return CallContext(**(fields | changes))  # type: ignore[arg-type]


def routed(*, cacheable: bool = True) -> Routed:
    decision = CacheDecision(
        key="k" if cacheable else None,
        lookup=cacheable,
        store=cacheable,
        ttl_s=60,
        reason="cacheable" if cacheable else "temperature",
    )
    plan = RoutePlan(route="chat", tier="standard", rule="auto", reason="r", candidates=())
    features = RequestFeatures(
        input_tokens=5,
        requested_output=None,
        needs=frozenset(),
        task=TaskKind.CHAT,
        complexity=0.1,
        keyword_hits=(),
        tier_hint=None,
    )
    return Routed(plan=plan, features=features, decision=decision)


def test_a_repeat_finds_what_the_first_request_decided() -> None:
    memo = RouteMemo()
    remembered = routed()
    memo.remember(RouteMemo.key(b'{"a":1}', context()), remembered)
    assert memo.get(RouteMemo.key(b'{"a":1}', context(request_id="other"))) is remembered
    assert memo.get(RouteMemo.key(b'{"a": 1}', context())) is None  # not byte-identical


def test_the_key_holds_every_call_setting_routing_or_the_cache_key_read() -> None:
    memo = RouteMemo()
    memo.remember(RouteMemo.key(b"body", context()), routed())
    for changed in (
        context(cache_scope="another caller"),
        context(tier_hint="premium"),
        context(allow_fallback=False),
        context(cache=CacheDirectives(max_age_s=5)),
    ):
        assert memo.get(RouteMemo.key(b"body", changed)) is None


def test_requests_that_cannot_be_cached_are_not_remembered() -> None:
    memo = RouteMemo()
    memo.remember(RouteMemo.key(b"body", context()), routed(cacheable=False))
    assert len(memo) == 0


def test_the_least_recently_used_entry_goes_first() -> None:
    memo = RouteMemo(capacity=2)
    first, second, third = (RouteMemo.key(body, context()) for body in (b"1", b"2", b"3"))
    memo.remember(first, routed())
    memo.remember(second, routed())
    assert memo.get(first) is not None  # now the most recently used
    memo.remember(third, routed())
    assert len(memo) == 2
    assert memo.get(second) is None
    assert memo.get(first) is not None

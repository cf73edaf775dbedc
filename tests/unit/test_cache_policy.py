from __future__ import annotations

import json
import random
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.forwarding import parse_chat_request
from domain.cache_directives import NO_DIRECTIVES, CacheDirectives, parse_directives
from domain.cache_policy import (
    MAX_TTL_S,
    CacheDecision,
    CacheKeyPolicy,
    CacheRequest,
    RouteCacheRule,
    cache_key,
)
from domain.errors import InvalidRequest
from domain.similarity import cosine, semantic_text, unit
from infra.cache_builder import build_cache_policy
from infra.settings import CacheSettings

QUESTION = [
    {"role": "system", "content": "You are a helpful support agent."},
    {"role": "user", "content": "How do I reset my password?"},
]
BODY: dict[str, Any] = {"model": "economy", "messages": QUESTION, "temperature": 0}
POLICY = CacheKeyPolicy()
SEMANTIC = CacheKeyPolicy(semantic=True)


def request(
    body: dict[str, Any], *, tenant: str = "acme", route: str = "economy", indent: int | None = None
) -> CacheRequest:
    fields = {name: json.dumps(value, indent=indent).encode() for name, value in body.items()}
    return CacheRequest.of(tenant=tenant, route=route, fields=fields)


def decide(
    body: dict[str, Any],
    *,
    policy: CacheKeyPolicy = POLICY,
    tier: str = "economy",
    directives: CacheDirectives = NO_DIRECTIVES,
    tenant: str = "acme",
    route: str = "economy",
) -> CacheDecision:
    body_request = request(body, tenant=tenant, route=route)
    return policy.decide(body_request, tier=tier, directives=directives)


def key_of(body: dict[str, Any], *, tenant: str = "acme", route: str = "economy") -> str:
    return cache_key(request(body, tenant=tenant, route=route))


# Keys


def test_key_is_a_sha256_hex_digest_and_stable() -> None:
    key = key_of(BODY)
    assert len(key) == 64 and int(key, 16) >= 0
    assert key == key_of(json.loads(json.dumps(BODY)))
    assert key == decide(BODY).key


def test_real_wire_fields_give_the_same_key_as_equivalent_json() -> None:
    raw = b'{"messages": [{"content": "How do I reset my password?", "role": "user"}],'
    raw += b' "model": "economy", "temperature": 0.0, "stream": true}'
    _, raw_fields = parse_chat_request(raw)
    fields = {name: bytes(value) for name, value in raw_fields.items()}
    from_wire = CacheRequest.of(tenant="acme", route="economy", fields=fields)
    body = {"model": "economy", "messages": [QUESTION[1]], "temperature": 0}
    assert cache_key(from_wire) == key_of(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


@given(
    extra=st.dictionaries(st.sampled_from(["tools", "response_format", "logit_bias"]), json_values),
    seed=st.integers(0, 2**32),
    indent=st.sampled_from([None, 0, 2]),
)
def test_key_ignores_object_key_order_and_whitespace(
    extra: dict[str, Any], seed: int, indent: int | None
) -> None:
    body = {**BODY, **{k: v for k, v in extra.items() if v is not None}}
    reordered = _shuffled(body, random.Random(seed))
    assert cache_key(request(reordered, indent=indent)) == cache_key(request(body))


OUTPUT_CHANGES: dict[str, Any] = {
    "temperature": 0.2,
    "top_p": 0.5,
    "max_tokens": 50,
    "max_completion_tokens": 60,
    "seed": 7,
    "stop": ["\n"],
    "presence_penalty": 0.5,
    "frequency_penalty": 0.5,
    "logit_bias": {"50256": -100},
    "tools": [{"type": "function", "function": {"name": "lookup"}}],
    "tool_choice": "required",
    "response_format": {"type": "json_object"},
    "logprobs": True,
    "reasoning_effort": "high",  # unknown to the gateway: still part of the key
}


@pytest.mark.parametrize(("field", "value"), OUTPUT_CHANGES.items())
def test_key_changes_with_every_output_changing_field(field: str, value: Any) -> None:
    assert key_of({**BODY, field: value}) != key_of(BODY)


@given(field=st.sampled_from(sorted(OUTPUT_CHANGES)), a=json_values, b=json_values)
def test_different_values_of_a_field_give_different_keys(field: str, a: Any, b: Any) -> None:
    if a is None or b is None or json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True):
        return
    assert key_of({**BODY, field: a}) != key_of({**BODY, field: b})


def test_key_changes_with_messages_tenant_and_route() -> None:
    other_question = [QUESTION[0], {"role": "user", "content": "How do I reset my router?"}]
    assert key_of({**BODY, "messages": other_question}) != key_of(BODY)
    assert key_of(BODY, tenant="globex") != key_of(BODY, tenant="acme")
    assert key_of(BODY, route="premium") != key_of(BODY, route="economy")


def test_streamed_and_plain_requests_share_a_key() -> None:
    streamed = {**BODY, "stream": True, "stream_options": {"include_usage": True}}
    assert key_of(streamed) == key_of(BODY) == key_of({**BODY, "stream": False})


def test_fields_that_do_not_change_the_answer_are_not_in_the_key() -> None:
    noise = {"model": "glm-4-plus", "user": "u-42", "metadata": {"team": "search"}}
    assert key_of({**BODY, **noise}) == key_of(BODY)


def test_equivalent_spellings_share_a_key() -> None:
    assert key_of({**BODY, "temperature": 0.0}) == key_of(BODY)
    assert key_of({**BODY, "n": 1}) == key_of(BODY)
    assert key_of({**BODY, "seed": None}) == key_of(BODY)
    assert key_of({**BODY, "max_tokens": 99}) == key_of({**BODY, "max_completion_tokens": 99})


# Cacheability and TTLs


def test_a_deterministic_request_is_cacheable_with_its_tier_ttl() -> None:
    decision = decide(BODY, tier="economy")
    assert (decision.lookup, decision.store, decision.reason) == (True, True, "cacheable")
    assert decision.ttl_s == 3600.0
    assert decide(BODY, tier="standard").ttl_s == decide(BODY, tier="premium").ttl_s == 900.0


@pytest.mark.parametrize(
    ("temperature", "cacheable"), [(0, True), (0.3, True), (0.31, False), (1.0, False)]
)
def test_temperature_above_the_threshold_is_not_cached(temperature: float, cacheable: bool) -> None:
    decision = decide({**BODY, "temperature": temperature})
    assert decision.bypass is not cacheable
    assert decision.reason == ("cacheable" if cacheable else "temperature")
    assert (decision.key is None) is not cacheable


def test_absent_temperature_counts_as_openai_default_and_a_route_can_opt_in() -> None:
    body = {"model": "economy", "messages": QUESTION}
    assert decide(body).reason == "temperature"
    lenient = CacheKeyPolicy(routes={"faq": RouteCacheRule(max_temperature=2.0)})
    assert decide(body, policy=lenient, route="faq").reason == "cacheable"
    assert decide(body, policy=CacheKeyPolicy(absent_temperature=0.0)).reason == "cacheable"


def test_several_choices_are_never_cached() -> None:
    assert decide({**BODY, "n": 2}).reason == "n"
    assert decide({**BODY, "n": 2}).bypass


_ROUTE_RULES = st.dictionaries(
    st.sampled_from(["economy", "faq", "premium"]),
    st.builds(
        RouteCacheRule,
        enabled=st.booleans(),
        max_temperature=st.none() | st.sampled_from([0.0, 0.3, 0.7, 2.0]),
    ),
)


@given(
    rules=_ROUTE_RULES,
    enabled=st.booleans(),
    temperature=st.none() | st.sampled_from([0.0, 0.3, 0.5, 0.7, 1.0, 2.0]),
    n=st.none() | st.integers(min_value=1, max_value=3),
)
def test_may_cache_says_no_only_when_every_route_bypasses(
    rules: dict[str, RouteCacheRule], enabled: bool, temperature: float | None, n: int | None
) -> None:
    policy = CacheKeyPolicy(enabled=enabled, routes=rules)
    body: dict[str, Any] = {"model": "auto", "messages": QUESTION}
    body |= {"temperature": temperature} if temperature is not None else {}
    body |= {"n": n} if n is not None else {}
    routes = ["economy", "faq", "premium", "unlisted"]
    bypassed = [decide(body, policy=policy, route=route).bypass for route in routes]
    assert policy.may_cache(temperature=temperature, n=n) == (not all(bypassed))


def test_routes_can_opt_out_and_the_policy_can_be_off() -> None:
    policy = CacheKeyPolicy(routes={"premium": RouteCacheRule(enabled=False)})
    assert decide(BODY, policy=policy, route="premium").reason == "route-disabled"
    assert decide(BODY, policy=policy, route="economy").reason == "cacheable"
    assert decide(BODY, policy=CacheKeyPolicy(enabled=False)).bypass


def test_route_ttl_overrides_the_tier() -> None:
    policy = CacheKeyPolicy(routes={"faq": RouteCacheRule(ttl_s=MAX_TTL_S)})
    assert decide(BODY, policy=policy, route="faq", tier="premium").ttl_s == MAX_TTL_S


@pytest.mark.parametrize(
    "policy",
    [
        lambda: CacheKeyPolicy(ttl_by_tier={"economy": MAX_TTL_S + 1}),
        lambda: CacheKeyPolicy(default_ttl_s=0),
        lambda: CacheKeyPolicy(routes={"x": RouteCacheRule(ttl_s=-5)}),
        lambda: CacheKeyPolicy(semantic_threshold=1.5),
    ],
)
def test_ttls_are_capped_at_a_day_and_thresholds_at_one(policy: Any) -> None:
    with pytest.raises(ValueError, match="must be in"):
        policy()


def test_unparseable_fields_bypass_instead_of_failing() -> None:
    fields = {"messages": json.dumps(QUESTION).encode(), "temperature": b"NaN"}
    decision = POLICY.decide(
        CacheRequest.of(tenant="a", route="r", fields=fields),
        tier="economy",
        directives=NO_DIRECTIVES,
    )
    assert decision.reason == "unparseable" and decision.bypass


# Directives


def test_no_store_bypasses_everything() -> None:
    decision = decide(BODY, policy=SEMANTIC, directives=CacheDirectives(no_store=True))
    assert decision.bypass and decision.key is None and decision.semantic is None
    assert decision.reason == "no-store"


def test_no_cache_skips_the_lookup_but_stores_the_fresh_answer() -> None:
    decision = decide(BODY, directives=CacheDirectives(no_cache=True))
    assert (decision.lookup, decision.store, decision.reason) == (False, True, "no-cache")
    assert decision.key == key_of(BODY)


def test_max_age_bounds_the_age_of_an_acceptable_entry() -> None:
    decision = decide(BODY, directives=CacheDirectives(max_age_s=60))
    assert decision.lookup and decision.accepts(stored_at=1000.0, now=1060.0)
    assert not decision.accepts(stored_at=1000.0, now=1060.5)
    assert decide(BODY).accepts(stored_at=0.0, now=1e9)
    assert not decide(BODY, directives=CacheDirectives(max_age_s=0)).lookup


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, CacheDirectives()),
        ({"X-Tiergate-Cache": "no-cache"}, CacheDirectives(no_cache=True)),
        ({"x-tiergate-cache": " NO-STORE "}, CacheDirectives(no_store=True)),
        ({"Cache-Control": "no-cache"}, CacheDirectives(no_cache=True)),
        ({"cache-control": "private, no-store"}, CacheDirectives(no_store=True)),
        ({"cache-control": "max-age=300"}, CacheDirectives(max_age_s=300)),
        ({"cache-control": 'max-age="30", max-age=10'}, CacheDirectives(max_age_s=10)),
        ({"cache-control": "max-age=-1, max-age=abc, immutable"}, CacheDirectives()),
        ({"x-tiergate-semantic-threshold": "0.97"}, CacheDirectives(semantic_threshold=0.97)),
    ],
)
def test_directives_are_parsed_from_headers(
    headers: dict[str, str], expected: CacheDirectives
) -> None:
    assert parse_directives(headers) == expected


@pytest.mark.parametrize(
    "headers",
    [
        {"x-tiergate-cache": "nocache"},
        {"x-tiergate-semantic-threshold": "high"},
        {"x-tiergate-semantic-threshold": "1.5"},
        {"x-tiergate-semantic-threshold": "nan"},
    ],
)
def test_bad_tiergate_header_values_are_invalid_requests(headers: dict[str, str]) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_directives(headers)
    assert caught.value.param == next(iter(headers))


# Semantic lookups


def test_semantic_lookup_only_when_the_route_or_policy_allows() -> None:
    assert decide(BODY).semantic is None
    lookup = decide(BODY, policy=SEMANTIC).semantic
    assert lookup is not None
    assert lookup.text == "How do I reset my password?"
    assert lookup.threshold == 0.92
    per_route = CacheKeyPolicy(routes={"economy": RouteCacheRule(semantic=True)})
    assert decide(BODY, policy=per_route).semantic is not None
    assert decide(BODY, policy=per_route, route="premium").semantic is None


@given(asked=st.floats(0.0, 1.0), floor=st.floats(0.5, 1.0))
def test_callers_can_raise_the_semantic_threshold_but_never_lower_it(
    asked: float, floor: float
) -> None:
    policy = CacheKeyPolicy(semantic=True, semantic_threshold=floor)
    directives = CacheDirectives(semantic_threshold=asked)
    lookup = decide(BODY, policy=policy, directives=directives).semantic
    assert lookup is not None
    assert lookup.threshold == max(floor, asked)


def _scope(
    body: dict[str, Any],
    *,
    tenant: str = "acme",
    route: str = "economy",
    policy: CacheKeyPolicy = SEMANTIC,
) -> str:
    lookup = decide(body, policy=policy, tenant=tenant, route=route).semantic
    assert lookup is not None
    return lookup.scope.id


def test_paraphrases_share_a_scope_and_everything_else_separates_scopes() -> None:
    paraphrase = [QUESTION[0], {"role": "user", "content": "how can I reset my password"}]
    assert _scope({**BODY, "messages": paraphrase}) == _scope(BODY)
    other_system = [{"role": "system", "content": "You are a pirate."}, QUESTION[1]]
    earlier_turns = [QUESTION[0], {"role": "user", "content": "hi"}, QUESTION[1]]
    distinct = {
        _scope(BODY),
        _scope(BODY, tenant="globex"),
        _scope(BODY, route="premium"),
        _scope({**BODY, "messages": other_system}),
        _scope({**BODY, "messages": earlier_turns}),
        _scope({**BODY, "response_format": {"type": "json_object"}}),
    }
    assert len(distinct) == 6


def _asking(question: str) -> dict[str, Any]:
    return {**BODY, "messages": [QUESTION[0], {"role": "user", "content": question}]}


PUZZLE = _asking("A train leaves at 60 km/h. How long does it take to cover 120 km?")
OTHER_NUMBERS = _asking("A train leaves at 80 km/h. How long does it take to cover 200 km?")
SWAPPED = _asking("A train leaves at 120 km/h. How long does it take to cover 60 km?")
REWORDED = _asking("How long does a train going 60 km/h need for 120 km?")
NUMBERS_OFF = CacheKeyPolicy(semantic=True, semantic_match_numbers=False)


def test_a_semantic_hit_needs_the_same_numbers_in_the_same_order() -> None:
    assert len({_scope(PUZZLE), _scope(OTHER_NUMBERS), _scope(SWAPPED)}) == 3
    assert _scope(REWORDED) == _scope(PUZZLE)
    ticket = _asking("Classify ticket #4512: I was charged twice.")
    assert _scope(ticket) != _scope(_asking("Classify ticket #4513: I was charged twice."))
    lookup = decide(PUZZLE, policy=SEMANTIC).semantic
    assert lookup is not None and lookup.scope.numbers == ("60", "120")
    assert lookup.text == PUZZLE["messages"][-1]["content"]  # what is embedded is unchanged


def test_prompts_without_numbers_and_exact_keys_are_unchanged_by_the_number_rule() -> None:
    paraphrase = _asking("how can I reset my password")
    assert _scope(paraphrase) == _scope(BODY) == _scope(BODY, policy=NUMBERS_OFF)
    for body in (BODY, PUZZLE):
        assert decide(body, policy=SEMANTIC).key == decide(body, policy=NUMBERS_OFF).key
        assert decide(body, policy=SEMANTIC).key == key_of(body)


def test_with_number_matching_off_numbers_no_longer_separate_scopes() -> None:
    assert _scope(PUZZLE, policy=NUMBERS_OFF) == _scope(OTHER_NUMBERS, policy=NUMBERS_OFF)
    lookup = decide(PUZZLE, policy=NUMBERS_OFF).semantic
    assert lookup is not None and lookup.scope.numbers == ()


@pytest.mark.parametrize(
    ("policy_matches", "route_matches", "separated"),
    [(True, None, True), (False, None, False), (True, False, False), (False, True, True)],
)
def test_a_route_can_override_number_matching(
    policy_matches: bool, route_matches: bool | None, separated: bool
) -> None:
    policy = CacheKeyPolicy(
        semantic=True,
        semantic_match_numbers=policy_matches,
        routes={"economy": RouteCacheRule(semantic_match_numbers=route_matches)},
    )
    differ = _scope(PUZZLE, policy=policy) != _scope(OTHER_NUMBERS, policy=policy)
    assert differ is separated
    # Other routes keep the policy's setting.
    elsewhere = _scope(PUZZLE, policy=policy, route="premium")
    assert (elsewhere != _scope(OTHER_NUMBERS, policy=policy, route="premium")) is policy_matches


def test_number_matching_is_on_by_default_and_configurable_per_policy_and_route() -> None:
    assert CacheKeyPolicy().semantic_match_numbers is True
    assert build_cache_policy(CacheSettings()).semantic_match_numbers is True
    settings = msgspec.convert(
        {
            "semantic_match_numbers": False,
            "routes": {"math": {"semantic_match_numbers": True}, "faq": {"semantic": True}},
        },
        CacheSettings,
    )
    policy = build_cache_policy(settings)
    assert policy.semantic_match_numbers is False
    assert policy.rule_for("math").semantic_match_numbers is True
    assert policy.rule_for("faq").semantic_match_numbers is None
    assert _scope(PUZZLE, policy=policy, route="math") != _scope(
        OTHER_NUMBERS, policy=policy, route="math"
    )
    assert _scope(PUZZLE, policy=policy, route="faq") == _scope(
        OTHER_NUMBERS, policy=policy, route="faq"
    )


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "assistant", "content": "Hello"}],
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}],
        [{"role": "user", "content": "   "}],
        [{"role": "user", "content": "x" * 4001}],
    ],
)
def test_no_semantic_lookup_without_a_short_plain_text_user_turn(
    messages: list[dict[str, Any]],
) -> None:
    assert decide({**BODY, "messages": messages}, policy=SEMANTIC).semantic is None


def test_semantic_text_is_normalised_and_joins_text_parts() -> None:
    parts = [
        {"type": "text", "text": "How do I\n reset"},
        {"type": "text", "text": "my \uff50assword?"},
    ]
    assert semantic_text([{"role": "user", "content": parts}]) == "How do I reset my password?"


def test_cosine_and_unit() -> None:
    assert cosine((1.0, 0.0), (2.0, 0.0)) == pytest.approx(1.0)
    assert cosine((1.0, 0.0), (0.0, 3.0)) == pytest.approx(0.0)
    assert cosine((0.0, 0.0), (1.0, 0.0)) == 0.0
    assert unit((3.0, 4.0)) == pytest.approx((0.6, 0.8))
    assert unit((0.0, 0.0)) is None
    with pytest.raises(ValueError, match="dimensions"):
        cosine((1.0,), (1.0, 0.0))


def test_lone_surrogates_and_deep_nesting_do_not_break_the_decision() -> None:
    surrogate = {**BODY, "messages": [{"role": "user", "content": "\ud800 oops"}]}
    assert decide(surrogate).key is not None
    fields = {
        "messages": json.dumps(QUESTION).encode(),
        "temperature": b"0",
        "stop": b"[" * 5000 + b"]" * 5000,
    }
    deep = CacheRequest.of(tenant="a", route="r", fields=fields)
    assert POLICY.decide(deep, tier="economy", directives=NO_DIRECTIVES).reason == "unparseable"


def test_an_uncacheable_temperature_is_refused_before_the_body_is_read() -> None:
    fields = {"messages": b"[not json", "temperature": b"0.7"}
    hot = CacheRequest.of(tenant="a", route="r", fields=fields)
    assert POLICY.decide(hot, tier="economy", directives=NO_DIRECTIVES).reason == "temperature"

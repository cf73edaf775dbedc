"""Cache policy: which chat requests may be answered from cache, under which key, for how long."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.cache_directives import CacheDirectives
from domain.similarity import SemanticScope, numbers_in, semantic_text

KEY_VERSION = "v1"  # bump when the canonical form changes: old entries then simply miss
MAX_TTL_S = 24 * 3600.0
DEFAULT_TTL_BY_TIER: Mapping[str, float] = {"economy": 3600.0, "standard": 900.0, "premium": 900.0}

# Body fields that never change the answer: transport, accounting and routing. `model` is
# replaced by the resolved route; `stream` is excluded so streamed and plain requests share a key.
NON_OUTPUT_FIELDS = frozenset(
    {
        "model",
        "stream",
        "stream_options",
        "user",
        "metadata",
        "store",
        "service_tier",
        "prompt_cache_key",
        "safety_identifier",
    }
)


@dataclass(frozen=True, slots=True)
class CacheRequest:
    """A chat request as the cache sees it: who asks, the resolved route, the raw body fields."""

    tenant: str
    route: str
    fields: tuple[tuple[str, bytes], ...]  # every top-level body field as raw JSON

    @classmethod
    def of(cls, *, tenant: str, route: str, fields: Mapping[str, bytes]) -> CacheRequest:
        return cls(tenant=tenant, route=route, fields=tuple(fields.items()))


@dataclass(frozen=True, slots=True)
class RouteCacheRule:
    """A route's opt-in/out and overrides; `None` means "the policy's value"."""

    enabled: bool = True
    max_temperature: float | None = None
    ttl_s: float | None = None
    semantic: bool | None = None
    semantic_threshold: float | None = None
    semantic_match_numbers: bool | None = None


@dataclass(frozen=True, slots=True)
class SemanticLookup:
    """What the semantic cache needs: where to look, what to embed, how close is close enough."""

    scope: SemanticScope
    text: str
    threshold: float


@dataclass(frozen=True, slots=True)
class CacheDecision:
    """What to do with the cache for one request. `key` is None when the cache is bypassed."""

    key: str | None
    lookup: bool
    store: bool
    ttl_s: float
    reason: str  # "cacheable", "no-cache", "no-store", "route-disabled", "temperature", "n", ...
    max_age_s: float | None = None
    semantic: SemanticLookup | None = None

    @property
    def bypass(self) -> bool:
        return not (self.lookup or self.store)

    def accepts(self, *, stored_at: float, now: float) -> bool:
        """Whether an entry stored at `stored_at` is young enough for this request's max-age."""
        return self.max_age_s is None or now - stored_at <= self.max_age_s


@dataclass(frozen=True, slots=True)
class CacheKeyPolicy:
    """Cacheability, TTLs and keys. Answers with temperature above `max_temperature` (an absent
    temperature counts as `absent_temperature`, OpenAI's default 1.0) are never cached unless
    the route raises its own `max_temperature`. With `semantic_match_numbers`, a semantic hit
    also needs the same numbers in the last user turn: embeddings hardly tell 60 km/h from 80."""

    enabled: bool = True
    max_temperature: float = 0.3
    absent_temperature: float = 1.0
    ttl_by_tier: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_TTL_BY_TIER))
    default_ttl_s: float = 900.0
    routes: Mapping[str, RouteCacheRule] = field(default_factory=dict)
    semantic: bool = False
    semantic_threshold: float = 0.92
    semantic_max_chars: int = 4000
    semantic_match_numbers: bool = True
    # A rule with the highest temperature any route caches at: set by __post_init__.
    _loosest_rule: RouteCacheRule = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        overrides = [rule.max_temperature for rule in self.routes.values() if rule.enabled]
        loosest = max([self.max_temperature, *(t for t in overrides if t is not None)])
        object.__setattr__(self, "_loosest_rule", RouteCacheRule(max_temperature=loosest))
        ttls = [self.default_ttl_s, *self.ttl_by_tier.values()]
        ttls += [rule.ttl_s for rule in self.routes.values() if rule.ttl_s is not None]
        if any(not 0 < ttl <= MAX_TTL_S for ttl in ttls):
            raise ValueError(f"cache TTLs must be in (0, {MAX_TTL_S:.0f}] seconds")
        thresholds = [self.semantic_threshold]
        thresholds += [
            rule.semantic_threshold
            for rule in self.routes.values()
            if rule.semantic_threshold is not None
        ]
        if any(not 0.0 <= t <= 1.0 for t in thresholds):
            raise ValueError("semantic thresholds must be in [0, 1]")

    def may_cache(self, *, temperature: float | None, n: int | None) -> bool:
        """False when `decide` would bypass the cache on every route for these knobs, as it does
        for most traffic (OpenAI's default temperature): the caller can then skip the decision,
        and with it reading and hashing the body."""
        if not self.enabled:
            return False
        knobs: dict[str, object] = {}  # as `_output_knobs` reads them: an absent one is left out
        if n is not None:
            knobs["n"] = n
        if temperature is not None:
            knobs["temperature"] = temperature
        return self._refusal(knobs, self._loosest_rule) is None

    def rule_for(self, route: str) -> RouteCacheRule:
        return self.routes.get(route) or _DEFAULT_RULE

    def ttl_for(self, route: str, tier: str) -> float:
        rule = self.rule_for(route)
        return rule.ttl_s or self.ttl_by_tier.get(tier, self.default_ttl_s)

    def decide(
        self, request: CacheRequest, *, tier: str, directives: CacheDirectives
    ) -> CacheDecision:
        """The cache decision for one request: key, lookup/store flags, TTL, semantic lookup."""
        ttl_s = self.ttl_for(request.route, tier)
        rule = self.rule_for(request.route)
        if directives.no_store:
            return CacheDecision(
                key=None, lookup=False, store=False, ttl_s=ttl_s, reason="no-store"
            )
        if not (self.enabled and rule.enabled):
            return _bypass(ttl_s, "route-disabled")
        try:
            # Most traffic runs at the default temperature: refuse it before the whole body
            # is parsed, canonicalised and hashed.
            refusal = self._refusal(_output_knobs(request.fields), rule)
            if refusal:
                return _bypass(ttl_s, refusal)
            body = _normalised_body(request.fields)
            key = _digest({"tenant": request.tenant, "route": request.route, "body": body})
        except (ValueError, RecursionError):
            return _bypass(ttl_s, "unparseable")
        lookup = not directives.no_cache and directives.max_age_s != 0
        return CacheDecision(
            key=key,
            lookup=lookup,
            store=True,
            ttl_s=ttl_s,
            reason="cacheable" if lookup else "no-cache",
            max_age_s=directives.max_age_s,
            semantic=self._semantic(request, body, rule, directives),
        )

    def _refusal(self, body: Mapping[str, object], rule: RouteCacheRule) -> str | None:
        n = body.get("n", 1)
        if not isinstance(n, int) or n != 1:
            return "n"
        temperature = body.get("temperature", self.absent_temperature)
        limit = self.max_temperature if rule.max_temperature is None else rule.max_temperature
        if not isinstance(temperature, int | float) or temperature > limit:
            return "temperature"
        return None

    def _semantic(
        self,
        request: CacheRequest,
        body: Mapping[str, object],
        rule: RouteCacheRule,
        directives: CacheDirectives,
    ) -> SemanticLookup | None:
        if not (self.semantic if rule.semantic is None else rule.semantic):
            return None
        messages = body.get("messages")
        text = semantic_text(messages)
        if text is None or len(text) > self.semantic_max_chars or not isinstance(messages, list):
            return None  # multimodal, not a user turn, or too long to compare by meaning
        # Everything but the wording of the last user turn must match exactly.
        context = {"messages": messages[:-1], **{k: v for k, v in body.items() if k != "messages"}}
        match_numbers = self.semantic_match_numbers
        if rule.semantic_match_numbers is not None:
            match_numbers = rule.semantic_match_numbers
        scope = SemanticScope.of(
            tenant=request.tenant,
            route=request.route,
            system=_canonical([m for m in messages if _is_system(m)]),
            context=_canonical(context),
            numbers=numbers_in(text) if match_numbers else (),
        )
        floor = self.semantic_threshold
        if rule.semantic_threshold is not None:
            floor = rule.semantic_threshold
        threshold = max(floor, directives.semantic_threshold or 0.0)
        return SemanticLookup(scope=scope, text=text, threshold=threshold)


_DEFAULT_RULE = RouteCacheRule()


def _bypass(ttl_s: float, reason: str) -> CacheDecision:
    return CacheDecision(key=None, lookup=False, store=False, ttl_s=ttl_s, reason=reason)


def _number(text: str) -> int | float:
    """JSON numbers by value: 0, 0.0 and 0e0 are the same temperature."""
    value = float(text)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _output_knobs(fields: tuple[tuple[str, bytes], ...]) -> dict[str, object]:
    """Just the fields that decide cacheability (`n`, `temperature`), parsed; null is absent."""
    knobs = {name: _parse(raw) for name, raw in fields if name in _KNOBS}
    return {name: value for name, value in knobs.items() if value is not None}


_KNOBS = frozenset({"n", "temperature"})


def _parse(raw: bytes) -> object:
    return _DECODER.decode(raw.decode("utf-8"))


def _normalised_body(fields: tuple[tuple[str, bytes], ...]) -> dict[str, object]:
    body: dict[str, object] = {}
    for name, raw in fields:
        if name in NON_OUTPUT_FIELDS:
            continue
        value = _parse(raw)
        if value is not None:
            body[name] = value
    if body.get("n") == 1:
        del body["n"]
    if "max_tokens" in body and "max_completion_tokens" not in body:
        body["max_completion_tokens"] = body.pop("max_tokens")
    return body


def _reject(text: str) -> float:
    raise ValueError(f"{text} is not JSON")


# Built once: json.loads/dumps with options build a new decoder/encoder on every call.
_DECODER = json.JSONDecoder(parse_float=_number, parse_constant=_reject)
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _is_system(message: object) -> bool:
    return isinstance(message, dict) and message.get("role") in ("system", "developer")


def _canonical(value: object) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 (lone surrogates kept, not refused)."""
    text = _ENCODER.encode(value)
    return text.encode("utf-8", "surrogatepass")


def _digest(material: Mapping[str, object]) -> str:
    return hashlib.sha256(_canonical({"v": KEY_VERSION, **material})).hexdigest()


def cache_key(request: CacheRequest) -> str:
    """The exact-match key alone (sha256 hex), as `CacheKeyPolicy.decide` computes it.
    Raises ValueError when a field is not JSON."""
    body = _normalised_body(request.fields)
    return _digest({"tenant": request.tenant, "route": request.route, "body": body})

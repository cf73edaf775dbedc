"""plan_route: pick the route for a request and order the models that may answer it."""

from __future__ import annotations

from dataclasses import dataclass

from domain.catalog import Catalog, Model
from domain.errors import ContextLengthExceeded, InvalidRequest, ModelNotFound
from domain.features import RequestFeatures
from domain.route_plan import Candidate, RoutePlan
from domain.routing_policy import TIER_ORDER, Route, RoutingPolicy
from domain.tasks import TaskKind

MIN_OUTPUT_TOKENS = 256  # less room than this for an answer is not worth a call


@dataclass(frozen=True, slots=True)
class _Choice:
    route: Route
    rule: str
    reason: str


def plan_route(
    requested: str,
    features: RequestFeatures,
    catalog: Catalog,
    policy: RoutingPolicy,
    *,
    allow_fallback: bool = True,
) -> RoutePlan:
    pinned = catalog.find(requested)
    choice = (
        _pinned_choice(pinned, policy) if pinned else _route_choice(requested, features, policy)
    )
    ordered = _ordered_models(pinned, choice.route, catalog, policy, allow_fallback=allow_fallback)
    candidates = _admissible(ordered, choice.route, features, policy)
    reason = choice.reason
    if not candidates:
        candidates = _rescue(catalog, choice.route, features, policy)
        reason += f"; no model of route {choice.route.name} fits, using the cheapest that does"
    if allow_fallback:
        candidates = _with_other_family(candidates, catalog, choice.route, features, policy)
    if choice.route.cascade and not pinned:
        candidates = tuple(sorted(candidates, key=lambda c: _expected_price(c, features, policy)))
    return RoutePlan(
        route=choice.route.name,
        tier=choice.route.tier,
        rule=choice.rule,
        reason=reason,
        candidates=candidates,
        cascade=choice.route.cascade and not pinned,
        pinned=pinned is not None,
    )


def _pinned_choice(model: Model, policy: RoutingPolicy) -> _Choice:
    home = next(
        (policy.routes[t] for t in TIER_ORDER if model.id in policy.routes[t].candidates),
        policy.routes["standard"],
    )
    route = Route(name=model.id, candidates=(model.id, *home.candidates), tier=home.tier)
    return _Choice(route, "pinned", f"pinned: the caller asked for {model.id}")


def _route_choice(name: str, features: RequestFeatures, policy: RoutingPolicy) -> _Choice:
    if name == "auto":
        return _auto_choice(features, policy)
    route = policy.routes.get(name)
    if route is None:
        raise ModelNotFound(
            f"The model `{name}` does not exist or you do not have access to it.", param="model"
        )
    return _Choice(route, "named", f"named: the caller asked for route {name}")


def _auto_choice(features: RequestFeatures, policy: RoutingPolicy) -> _Choice:
    """The auto rules, first match wins; each returns the rule name for the explanation."""
    routes = policy.routes
    for capability in sorted(features.needs):
        if capability in policy.capability_routes:
            name = policy.capability_routes[capability]
            return _Choice(
                routes[name], "auto/capability", f"auto/capability: {capability} -> {name}"
            )
    if features.tier_hint in TIER_ORDER:
        hint = features.tier_hint
        return _Choice(routes[hint], "auto/hint", f"auto/hint: tier {hint} requested")
    for rule in policy.keyword_rules:
        hits = sorted(rule.keywords.intersection(features.keyword_hits))
        if hits:
            return _Choice(
                routes[rule.route],
                "auto/keyword",
                f"auto/keyword: {', '.join(hits)} -> {rule.route}",
            )
    tokens = features.input_tokens
    if policy.very_long_context_route and tokens > policy.very_long_context_tokens:
        name = policy.very_long_context_route
        return _Choice(
            routes[name],
            "auto/very-long-context",
            f"auto/very-long-context: ~{tokens} tokens"
            f" > {policy.very_long_context_tokens} -> {name}",
        )
    task_route = policy.task_routes.get(features.task)
    if task_route and features.task is not TaskKind.CHAT:
        return _Choice(
            routes[task_route], "auto/task", f"auto/task: {features.task} -> {task_route}"
        )
    if policy.long_context_route and tokens > policy.long_context_tokens:
        name = policy.long_context_route
        return _Choice(
            routes[name],
            "auto/long-context",
            f"auto/long-context: ~{tokens} tokens > {policy.long_context_tokens} -> {name}",
        )
    return _complexity_choice(features.complexity, policy)


def _complexity_choice(score: float, policy: RoutingPolicy) -> _Choice:
    if score < policy.economy_below:
        tier, why = "economy", f"{score:.2f} < {policy.economy_below:.2f}"
    elif score >= policy.premium_from:
        tier, why = "premium", f"{score:.2f} >= {policy.premium_from:.2f}"
    else:
        tier, why = (
            "standard",
            f"{policy.economy_below:.2f} <= {score:.2f} < {policy.premium_from:.2f}",
        )
    return _Choice(policy.routes[tier], "auto/complexity", f"auto/complexity: {why} -> {tier}")


def _ordered_models(
    pinned: Model | None,
    route: Route,
    catalog: Catalog,
    policy: RoutingPolicy,
    *,
    allow_fallback: bool,
) -> list[tuple[Model, bool]]:
    """(model, degraded) in preference order: the route, then the tier below it (degraded)."""
    names = [route.candidates[0]] if pinned and not allow_fallback else list(route.candidates)
    ordered = [(model, False) for model in _known(names, catalog)]
    # Graceful degradation: a tier route may answer from the tier below when its own models fail.
    below = policy.tier_below(route.tier) if route.name == route.tier else None
    if allow_fallback and below and not pinned:
        ordered += [(model, True) for model in _known(policy.routes[below].candidates, catalog)]
    unique: dict[str, tuple[Model, bool]] = {}
    for model, degraded in ordered:
        unique.setdefault(model.id, (model, degraded))
    return list(unique.values())


def _known(names: tuple[str, ...] | list[str], catalog: Catalog) -> list[Model]:
    return [model for name in names if (model := catalog.find(name)) is not None]


def _admissible(
    ordered: list[tuple[Model, bool]],
    route: Route,
    features: RequestFeatures,
    policy: RoutingPolicy,
) -> tuple[Candidate, ...]:
    return tuple(
        Candidate(
            model=model, output_limit=_output_limit(model, route, features), degraded=degraded
        )
        for model, degraded in ordered
        if _can_serve(model, route, features, policy)
    )


def _can_serve(
    model: Model, route: Route, features: RequestFeatures, policy: RoutingPolicy
) -> bool:
    limit = _output_limit(model, route, features)
    if limit is None:  # nobody set a limit: assume a typical answer, or what room is left
        room = model.context_window - features.input_tokens
        limit = min(policy.default_output_tokens, model.max_output, max(room, MIN_OUTPUT_TOKENS))
    return model.can(features.needs) and model.fits(features.input_tokens, limit)


def _output_limit(model: Model, route: Route, features: RequestFeatures) -> int | None:
    requested, cap = features.requested_output, route.max_output_tokens
    if requested is None and cap is None:
        return None
    # Spelled out rather than min() over a generator: this runs for every catalog model.
    limit = model.max_output
    if requested is not None and requested < limit:
        limit = requested
    if cap is not None and cap < limit:
        limit = cap
    if requested is None:
        # Only the gateway's own cap applies: shrink it to the room the window leaves rather
        # than refuse a request whose input fits.
        room = model.context_window - features.input_tokens
        limit = min(limit, max(room, MIN_OUTPUT_TOKENS))
    return limit


def _rescue(
    catalog: Catalog, route: Route, features: RequestFeatures, policy: RoutingPolicy
) -> tuple[Candidate, ...]:
    able = [model for model in catalog if _can_serve(model, route, features, policy)]
    if not able:
        raise _why_nothing_fits(catalog, features)
    able.sort(key=lambda model: (model.price_in + model.price_out, model.id))
    return tuple(Candidate(model, _output_limit(model, route, features)) for model in able[:3])


def _with_other_family(
    candidates: tuple[Candidate, ...],
    catalog: Catalog,
    route: Route,
    features: RequestFeatures,
    policy: RoutingPolicy,
) -> tuple[Candidate, ...]:
    """A plan never relies on one model family when the catalog has another that can serve."""
    families = {candidate.model.family for candidate in candidates}
    if len(families) > 1:
        return candidates
    others = [
        model
        for model in catalog
        if model.family not in families and _can_serve(model, route, features, policy)
    ]
    if not others:
        return candidates
    backup = min(others, key=lambda model: (model.price_in + model.price_out, model.id))
    return (*candidates, Candidate(backup, _output_limit(backup, route, features)))


def _why_nothing_fits(catalog: Catalog, features: RequestFeatures) -> InvalidRequest:
    if not any(model.can(features.needs) for model in catalog):
        missing = ", ".join(sorted(features.needs))
        return InvalidRequest(f"No model in the catalog supports this request ({missing}).")
    largest = max(model.context_window for model in catalog if model.can(features.needs))
    return ContextLengthExceeded(
        f"The request needs ~{features.input_tokens} input tokens plus its output, more than the "
        f"largest context window available ({largest} tokens).",
        param="messages",
    )


def _expected_price(
    candidate: Candidate, features: RequestFeatures, policy: RoutingPolicy
) -> float:
    output = candidate.output_limit or policy.default_output_tokens
    model = candidate.model
    return float(features.input_tokens * model.price_in + output * model.price_out)

"""Per-request cache controls: `x-tiergate-cache`, `Cache-Control`, the semantic threshold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.errors import InvalidRequest

TIERGATE_CACHE_HEADER = "x-tiergate-cache"
SEMANTIC_THRESHOLD_HEADER = "x-tiergate-semantic-threshold"
CACHE_CONTROL_HEADER = "cache-control"
_TIERGATE_VALUES = frozenset({"no-cache", "no-store"})


@dataclass(frozen=True, slots=True)
class CacheDirectives:
    """`no_cache`: don't answer from cache, but store the fresh answer. `no_store`: don't read,
    write or embed anything. `max_age_s`: the oldest entry the caller accepts. A semantic
    threshold can only make matching stricter than the policy's."""

    no_cache: bool = False
    no_store: bool = False
    max_age_s: float | None = None
    semantic_threshold: float | None = None


NO_DIRECTIVES = CacheDirectives()


def parse_directives(headers: Mapping[str, str]) -> CacheDirectives:
    """Directives from request headers (names in any case). Unknown `Cache-Control` directives
    are ignored, as HTTP caches do; a bad value in a tiergate header is a 400."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if lowered.keys().isdisjoint(_DIRECTIVE_HEADERS):
        return NO_DIRECTIVES  # most requests
    no_cache, no_store, max_age = _cache_control(lowered.get(CACHE_CONTROL_HEADER, ""))
    tiergate = _tiergate_values(lowered.get(TIERGATE_CACHE_HEADER, ""))
    return CacheDirectives(
        no_cache=no_cache or "no-cache" in tiergate,
        no_store=no_store or "no-store" in tiergate,
        max_age_s=max_age,
        semantic_threshold=_threshold(lowered.get(SEMANTIC_THRESHOLD_HEADER)),
    )


_DIRECTIVE_HEADERS = frozenset(
    {CACHE_CONTROL_HEADER, TIERGATE_CACHE_HEADER, SEMANTIC_THRESHOLD_HEADER}
)


def _cache_control(value: str) -> tuple[bool, bool, float | None]:
    no_cache = no_store = False
    max_age: float | None = None
    for directive in value.split(","):
        name, _, argument = directive.strip().partition("=")
        name = name.strip().lower()
        if name == "no-cache":
            no_cache = True
        elif name == "no-store":
            no_store = True
        elif name == "max-age":
            seconds = argument.strip().strip('"')
            if seconds.isdigit():  # RFC 9111 delta-seconds; anything else is ignored
                max_age = float(seconds) if max_age is None else min(max_age, float(seconds))
    return no_cache, no_store, max_age


def _tiergate_values(value: str) -> frozenset[str]:
    values = frozenset(v.strip().lower() for v in value.split(",") if v.strip())
    unknown = values - _TIERGATE_VALUES
    if unknown:
        raise InvalidRequest(
            f"{TIERGATE_CACHE_HEADER} must be no-cache or no-store, got {sorted(unknown)[0]!r}",
            param=TIERGATE_CACHE_HEADER,
        )
    return values


def _threshold(value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        threshold = float(value)
    except ValueError:
        threshold = -1.0
    if not 0.0 <= threshold <= 1.0:  # also rejects nan
        raise InvalidRequest(
            f"{SEMANTIC_THRESHOLD_HEADER} must be a number between 0 and 1",
            param=SEMANTIC_THRESHOLD_HEADER,
        )
    return threshold

"""Fault injection knobs per model and per upstream name, and the per-request draw."""

from __future__ import annotations

import random
from enum import StrEnum
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

Rate = Annotated[float, Meta(ge=0.0, le=1.0)]
Seconds = Annotated[float, Meta(ge=0.0)]
WILDCARD = "*"


class FaultKind(StrEnum):
    NONE = "none"
    DOWN = "down"
    RESET = "reset"
    HANG = "hang"
    ERROR = "error"
    EMPTY = "empty"
    REASONING_ONLY = "reasoning_only"
    CUT = "cut"


class FaultSpec(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """Probabilities and overrides for one model or upstream. Rates are per request."""

    errors: dict[int, Rate] = {}
    retry_after_s: Seconds | None = None
    extra_latency_s: Seconds = 0.0
    ttft_median_s: Seconds | None = None
    ttft_sigma: Seconds | None = None
    hang_rate: Rate = 0.0
    reset_rate: Rate = 0.0
    empty_rate: Rate = 0.0
    reasoning_only_rate: Rate = 0.0
    cut_rate: Rate = 0.0
    down: bool = False

    def combine(self, other: FaultSpec) -> FaultSpec:
        """Both specs apply: rates compound as independent events, `other` wins overrides."""
        mine, theirs = self.errors, other.errors
        return FaultSpec(
            errors={s: _either(mine.get(s, 0.0), theirs.get(s, 0.0)) for s in mine | theirs},
            retry_after_s=max(
                (v for v in (self.retry_after_s, other.retry_after_s) if v is not None),
                default=None,
            ),
            extra_latency_s=self.extra_latency_s + other.extra_latency_s,
            ttft_median_s=_prefer(other.ttft_median_s, self.ttft_median_s),
            ttft_sigma=_prefer(other.ttft_sigma, self.ttft_sigma),
            hang_rate=_either(self.hang_rate, other.hang_rate),
            reset_rate=_either(self.reset_rate, other.reset_rate),
            empty_rate=_either(self.empty_rate, other.empty_rate),
            reasoning_only_rate=_either(self.reasoning_only_rate, other.reasoning_only_rate),
            cut_rate=_either(self.cut_rate, other.cut_rate),
            down=self.down or other.down,
        )

    def draw(self, rng: random.Random) -> tuple[FaultKind, int]:
        """One fault (and its status for ERROR) for one request; one uniform draw at most."""
        if self.down:
            return FaultKind.DOWN, 0
        ladder: list[tuple[FaultKind, int, float]] = [
            (FaultKind.RESET, 0, self.reset_rate),
            (FaultKind.HANG, 0, self.hang_rate),
            *((FaultKind.ERROR, status, rate) for status, rate in sorted(self.errors.items())),
            (FaultKind.EMPTY, 0, self.empty_rate),
            (FaultKind.REASONING_ONLY, 0, self.reasoning_only_rate),
            (FaultKind.CUT, 0, self.cut_rate),
        ]
        if not any(rate > 0.0 for _, _, rate in ladder):
            return FaultKind.NONE, 0
        roll = rng.random()
        threshold = 0.0
        for kind, status, rate in ladder:
            threshold += rate
            if roll < threshold:
                return kind, status
        return FaultKind.NONE, 0


NO_FAULTS = FaultSpec()


class FaultBook(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """Fault specs by model id and by upstream name; `"*"` is the default of each map.

    JSON form: `{"models": {"*": {"errors": {"429": 0.1}, "retry_after_s": 1}},
    "upstreams": {"sim-eu": {"down": true}}}`. When a model spec and an upstream spec
    both match a request, both apply (see `FaultSpec.combine`).
    """

    models: dict[str, FaultSpec] = {}
    upstreams: dict[str, FaultSpec] = {}

    @classmethod
    def everywhere(cls, spec: FaultSpec) -> FaultBook:
        return cls(models={WILDCARD: spec})

    @classmethod
    def from_json(cls, data: bytes | str) -> FaultBook:
        return msgspec.json.decode(data, type=cls)

    def to_json(self) -> bytes:
        return msgspec.json.encode(self)

    def resolve(self, *, model: str, upstream: str) -> FaultSpec:
        by_model = self.models.get(model) or self.models.get(WILDCARD)
        by_upstream = self.upstreams.get(upstream) or self.upstreams.get(WILDCARD)
        if by_model is None:
            return by_upstream or NO_FAULTS
        if by_upstream is None:
            return by_model
        return by_upstream.combine(by_model)


def _either(a: float, b: float) -> float:
    """The chance that at least one of two independent events happens."""
    if a == 0.0 or b == 0.0:
        return a or b
    return 1.0 - (1.0 - a) * (1.0 - b)


def _prefer(first: float | None, second: float | None) -> float | None:
    return first if first is not None else second

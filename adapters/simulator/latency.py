"""The latency model: time to first token, tokens per second, and a slow tail."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Timing:
    """When one reply's first token arrives, and how long each further token takes."""

    ttft_s: float = 0.0
    per_token_s: float = 0.0

    @property
    def is_instant(self) -> bool:
        return self.ttft_s <= 0.0 and self.per_token_s <= 0.0

    def total_s(self, tokens: int) -> float:
        return self.ttft_s + tokens * self.per_token_s


INSTANT = Timing()


@dataclass(frozen=True, slots=True, kw_only=True)
class LatencyModel:
    """Lognormal TTFT (median `ttft_median_s`), then `tokens_per_s`; `tail_rate` of requests
    are `tail_factor` times slower. `scale` multiplies everything; 0 means no sleeps at all."""

    ttft_median_s: float = 0.3
    ttft_sigma: float = 0.35
    tokens_per_s: float = 320.0
    tail_rate: float = 0.015
    tail_factor: tuple[float, float] = (4.0, 8.0)
    scale: float = 1.0

    @classmethod
    def zero(cls) -> LatencyModel:
        return cls(scale=0.0)

    def scaled(self, scale: float) -> LatencyModel:
        return replace(self, scale=scale)

    def draw(
        self,
        rng: random.Random,
        *,
        ttft_median_s: float | None = None,
        ttft_sigma: float | None = None,
        extra_s: float = 0.0,
    ) -> Timing:
        """Draw one reply's timing. Fault overrides are absolute seconds, never scaled."""
        ttft = 0.0
        per_token = 0.0
        if self.scale > 0.0:
            ttft = self.scale * rng.lognormvariate(math.log(self.ttft_median_s), self.ttft_sigma)
            per_token = self.scale / self.tokens_per_s
            if self.tail_rate > 0.0 and rng.random() < self.tail_rate:
                factor = rng.uniform(*self.tail_factor)
                ttft *= factor
                per_token *= factor
        if ttft_median_s is not None:
            sigma = self.ttft_sigma if ttft_sigma is None else ttft_sigma
            ttft = rng.lognormvariate(math.log(max(ttft_median_s, 1e-9)), sigma)
        ttft += extra_s
        if ttft <= 0.0 and per_token <= 0.0:
            return INSTANT
        return Timing(ttft_s=ttft, per_token_s=per_token)

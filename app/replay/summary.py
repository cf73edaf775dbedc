"""Adding up a replay: requests, errors, cache hits, model mix, latency, cost against baseline."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from app.replay.driver import ReplayResult
from domain.pricing import format_usd

CACHE_HITS = ("hit", "semantic-hit")


@dataclass(frozen=True, slots=True)
class SpendLine:
    requests: int = 0
    cost_usd: Decimal = Decimal(0)
    baseline_usd: Decimal = Decimal(0)

    def plus(self, result: ReplayResult) -> SpendLine:
        return SpendLine(
            self.requests + 1,
            self.cost_usd + result.cost_usd,
            self.baseline_usd + result.baseline_usd,
        )


@dataclass(frozen=True, slots=True)
class ReplaySummary:
    workload: str
    seed: int | None
    concurrency: int
    requests: int
    errors: Counter[str]
    cache: Counter[str]  # answered requests by x-tiergate-cache
    models: Counter[str]  # answered requests by the model whose answer was served
    total: SpendLine
    by_model: dict[str, SpendLine] = field(default_factory=dict)
    by_tenant: dict[str, SpendLine] = field(default_factory=dict)
    by_feature: dict[str, SpendLine] = field(default_factory=dict)
    latency_p50_ms: float = 0.0  # answered requests only; not reproducible
    latency_p99_ms: float = 0.0
    wall_s: float = 0.0

    @property
    def answered(self) -> int:
        return self.requests - self.error_count

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def hit_rate(self) -> float:
        hits = sum(self.cache[kind] for kind in CACHE_HITS)
        return hits / self.answered if self.answered else 0.0

    @property
    def saving_usd(self) -> Decimal:
        return self.total.baseline_usd - self.total.cost_usd

    @property
    def saving_share(self) -> float:
        baseline = self.total.baseline_usd
        return float(self.saving_usd / baseline) if baseline else 0.0

    def fingerprint(self) -> str:
        """A digest of every reproducible number: the same for the same workload, seed and
        simulator seed against a fresh gateway; latencies and timings are left out."""
        parts = [
            f"requests={self.requests}",
            *(f"error:{k}={v}" for k, v in sorted(self.errors.items())),
            *(f"cache:{k}={v}" for k, v in sorted(self.cache.items())),
            *(
                f"model:{k}={v.requests}/{format_usd(v.cost_usd)}/{format_usd(v.baseline_usd)}"
                for k, v in sorted(self.by_model.items())
            ),
            f"cost={format_usd(self.total.cost_usd)}",
            f"baseline={format_usd(self.total.baseline_usd)}",
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def summarize(
    results: Sequence[ReplayResult],
    *,
    workload: str,
    seed: int | None,
    concurrency: int,
    wall_s: float,
) -> ReplaySummary:
    answered = [r for r in results if r.ok]
    latencies = sorted(r.latency_s * 1000 for r in answered)
    total = SpendLine()
    by_model: dict[str, SpendLine] = {}
    by_tenant: dict[str, SpendLine] = {}
    by_feature: dict[str, SpendLine] = {}
    for result in answered:
        total = total.plus(result)
        for groups, key in (
            (by_model, result.model or "?"),
            (by_tenant, result.tenant),
            (by_feature, result.feature),
        ):
            groups[key] = groups.get(key, SpendLine()).plus(result)
    return ReplaySummary(
        workload=workload,
        seed=seed,
        concurrency=concurrency,
        requests=len(results),
        errors=Counter(r.error for r in results if r.error is not None),
        cache=Counter(r.cache or "?" for r in answered),
        models=Counter(r.model or "?" for r in answered),
        total=total,
        by_model=by_model,
        by_tenant=by_tenant,
        by_feature=by_feature,
        latency_p50_ms=percentile(latencies, 0.50),
        latency_p99_ms=percentile(latencies, 0.99),
        wall_s=wall_s,
    )


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted values (0 for none)."""
    if not ordered:
        return 0.0
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[rank - 1]

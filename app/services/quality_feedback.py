"""Feedback on answers: rolling quality per (route, model), and demotions that follow from it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.services.store_guard import StoreGuard
from domain.governance_errors import PermissionDenied, UnknownRequestId
from domain.governance_ports import QualityStore
from domain.quality import QualityRule, QualityStat, ServedRequest, feedback_score, is_demoted
from domain.tenants import Tenant

logger = logging.getLogger(__name__)
_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class QualityEntry:
    route: str
    model: str
    stat: QualityStat
    demoted: bool


@dataclass(frozen=True, slots=True)
class FeedbackOutcome:
    request_id: str
    score: float
    entry: QualityEntry


class QualityFeedback:
    def __init__(
        self,
        *,
        store: QualityStore,
        rule: QualityRule,
        guard: StoreGuard,
        clock: Callable[[], float] = time.monotonic,
        refresh_s: float = 1.0,
    ) -> None:
        self.rule = rule
        self._store = store
        self._guard = guard
        self._clock = clock
        self._refresh_s = refresh_s
        self._demoted: frozenset[tuple[str, str]] = frozenset()
        self._fetched_at: float | None = None

    async def remember(self, request_id: str, served: ServedRequest) -> None:
        await self._guard.run("remember", lambda: self._store.remember(request_id, served), None)

    async def record(
        self, caller: Tenant, request_id: str, *, score: float | None, thumbs: str | None
    ) -> FeedbackOutcome:
        value = feedback_score(score, thumbs)
        served = await self._store.lookup(request_id)
        if served is not None and (served.tenant == caller.name or caller.admin):
            served = await self._store.claim(request_id)
        else:
            served = None
        if served is None:
            raise UnknownRequestId(
                f"No request {request_id!r} to rate: unknown, expired, or already rated.",
                param="request_id",
            )
        scores = await self._store.add_score(
            served.route, served.model, value, window=self.rule.window
        )
        entry = await self._update(served.route, served.model, QualityStat.of(scores))
        return FeedbackOutcome(request_id=request_id, score=value, entry=entry)

    async def add_sample(self, route: str, model: str, score: float) -> QualityEntry:
        """A score from the gateway itself (the evaluator): no request id to claim."""
        scores = await self._store.add_score(route, model, score, window=self.rule.window)
        return await self._update(route, model, QualityStat.of(scores))

    async def view(self) -> list[QualityEntry]:
        scores = await self._store.scores()
        demoted = await self._store.demoted()
        pairs = sorted(set(scores) | demoted)
        entries: list[QualityEntry] = []
        for route, model in pairs:
            stat = QualityStat.of(scores.get((route, model), []))
            entries.append(QualityEntry(route, model, stat, (route, model) in demoted))
        return entries

    async def restore(self, caller: Tenant, route: str, model: str) -> QualityEntry:
        """Undo a demotion by hand; the scores start again, so the rule needs new evidence."""
        if not caller.admin:
            raise PermissionDenied("Only an admin tenant may restore a demoted model.")
        await self._store.set_demoted(route, model, False)
        await self._store.reset(route, model)
        self._demoted = self._demoted - {(route, model)}
        logger.info("quality: %s restored on route %s by %s", model, route, caller.name)
        return QualityEntry(route, model, QualityStat.of([]), demoted=False)

    async def demoted_models(self, route: str) -> frozenset[str]:
        """Models demoted from `route`, re-read from the store at most once per `refresh_s`."""
        now = self._clock()
        if self._fetched_at is None or now - self._fetched_at >= self._refresh_s:
            self._fetched_at = now
            self._demoted = await self._guard.run("demoted", self._store.demoted, self._demoted)
        if not self._demoted:
            return _NONE  # the usual case, and a hot path: every call asks
        return frozenset(model for pair_route, model in self._demoted if pair_route == route)

    async def _update(self, route: str, model: str, stat: QualityStat) -> QualityEntry:
        was = (route, model) in await self._store.demoted()
        now = is_demoted(self.rule, stat, demoted_now=was)
        if now != was:
            await self._store.set_demoted(route, model, now)
            pair = {(route, model)}
            self._demoted = self._demoted | pair if now else self._demoted - pair
            verb = "demoted from" if now else "restored on"
            mean, samples = stat.mean or 0.0, stat.samples
            logger.warning(
                "quality: %s %s route %s (mean %.3f over %d)", model, verb, route, mean, samples
            )
        return QualityEntry(route, model, stat, demoted=now)

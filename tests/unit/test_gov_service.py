"""GovernanceService over the in-memory stores: admission, settlement, reports, feedback."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NoReturn

import pytest

from adapters.memory_limiter import MemoryRateLimiter
from adapters.memory_quality_store import MemoryQualityStore
from adapters.memory_spend_store import MemorySpendStore
from app.services.governance import Admission, GovernanceService
from domain.budgets import Balance, Budget, BudgetLine, CostQuote, SpendLimit
from domain.catalog import Model
from domain.errors import AuthenticationFailed, BudgetExceeded, InvalidRequest, RateLimited
from domain.governance_errors import (
    HardLimitReached,
    MaxCostExceeded,
    PermissionDenied,
    StoreUnavailable,
    TenantRateLimited,
    UnknownRequestId,
)
from domain.governance_ports import ReserveOutcome
from domain.ledger import SpendRecord, to_units
from domain.pricing import Cost, Usage
from domain.quality import QualityRule
from domain.rate_limits import RateLimit
from domain.route_plan import Candidate, RoutePlan
from domain.spend_report import SpendRow
from domain.tenants import Tenant, TenantDirectory, hash_key
from tests.fakes import FakeClock

START = datetime(2025, 3, 14, 12, 0, 30, tzinfo=UTC).timestamp()
SEARCH = Tenant(
    name="search",
    budget=Budget(daily=SpendLimit(soft_usd=Decimal("1.00"), hard_usd=Decimal("2.00"))),
    feature_budgets={"rerank": Budget(daily=SpendLimit(hard_usd=Decimal("0.30")))},
    rate_limit=RateLimit(requests_per_minute=3, tokens_per_minute=10_000),
)
BILLING = Tenant(name="billing")
FINANCE = Tenant(name="finance", admin=True)
RULE = QualityRule(window=5, min_samples=3, demote_below=0.8, restore_at=0.9)


def directory() -> TenantDirectory:
    return TenantDirectory.of(
        [(SEARCH, [hash_key("sk-s")]), (BILLING, [hash_key("sk-b")]), (FINANCE, [hash_key("f")])]
    )


def service(clock: FakeClock, **stores: object) -> GovernanceService:
    return GovernanceService(
        directory=directory(),
        spend=stores.get("spend", MemorySpendStore()),  # type: ignore[arg-type]
        limiter=stores.get("limiter", MemoryRateLimiter()),  # type: ignore[arg-type]
        quality=stores.get("quality", MemoryQualityStore()),  # type: ignore[arg-type]
        quality_rule=RULE,
        wall_clock=clock,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


async def admit(
    gov: GovernanceService,
    tenant: Tenant = SEARCH,
    *,
    worst: str = "0.10",
    economy: str | None = "0.01",
    feature: str | None = "chat",
    max_cost: str | None = None,
    tokens: int = 1000,
) -> Admission:
    return await gov.admit(
        tenant,
        feature,
        estimated_tokens=tokens,
        worst_case=lambda: CostQuote(Decimal(worst), None if economy is None else Decimal(economy)),
        max_cost_header=max_cost,
    )


async def spend(gov: GovernanceService, admission: Admission, usd: str, model: str = "m") -> None:
    await gov.settle(
        admission,
        cost=Cost(usd=Decimal(usd), baseline_usd=Decimal(usd) * 10),
        usage=Usage(100, 50),
        route="standard",
        model=model,
    )


def test_authenticate_uses_the_directory(clock: FakeClock) -> None:
    gov = service(clock)
    assert gov.authenticate("Bearer sk-s") is SEARCH
    assert not gov.open_mode
    with pytest.raises(AuthenticationFailed):
        gov.authenticate("Bearer nope")


def test_only_a_budget_or_a_max_cost_cap_may_downgrade_a_call(clock: FakeClock) -> None:
    admission = service(clock).admission
    reranker = Tenant(name="r", feature_budgets=SEARCH.feature_budgets)
    assert admission.may_downgrade(SEARCH, None, None)  # a tenant budget
    assert admission.may_downgrade(reranker, "rerank", None)  # that feature's budget
    assert not admission.may_downgrade(reranker, "search", None)
    assert not admission.may_downgrade(BILLING, "search", None)
    assert admission.may_downgrade(BILLING, "search", "0.01")
    assert not Budget().limited
    assert Budget(monthly=SpendLimit(soft_usd=Decimal(0))).limited


async def test_the_worst_case_is_priced_only_when_a_budget_or_a_cap_could_use_it(
    clock: FakeClock,
) -> None:
    gov = service(clock)
    priced: list[Tenant] = []

    async def admit_pricing(tenant: Tenant, feature: str, cap: str | None = None) -> Admission:
        def worst_case() -> CostQuote:
            priced.append(tenant)
            return CostQuote(Decimal("0.10"))

        return await gov.admit(
            tenant, feature, estimated_tokens=10, worst_case=worst_case, max_cost_header=cap
        )

    unpriced = await admit_pricing(BILLING, "search")  # no budget, no cap
    assert priced == []
    assert (unpriced.downgrade_to_economy, unpriced.reserved_units) == (False, 0)
    await admit_pricing(BILLING, "search", cap="0.50")
    await admit_pricing(SEARCH, "chat")
    assert priced == [BILLING, SEARCH]
    with pytest.raises(MaxCostExceeded):
        await admit_pricing(BILLING, "search", cap="0.05")


async def test_admit_reserves_the_worst_case_and_settle_records_once(clock: FakeClock) -> None:
    store = MemorySpendStore()
    gov = service(clock, spend=store)
    admission = await admit(gov)
    assert not admission.downgrade_to_economy
    assert admission.reservation_usd == Decimal("0.10")
    assert admission.rate_limit_headers["x-ratelimit-remaining-requests"] == "2"
    await spend(gov, admission, "0.04")
    await spend(gov, admission, "0.04")  # the `finally` may call again: a no-op
    await gov.release(admission)
    balance = (await store.balances(admission.lines))[0]
    assert balance == Balance(committed_units=to_units(Decimal("0.04")), reserved_units=0)
    report = await gov.spend_report(FINANCE, "feature", None, None)
    assert [(g.key, g.totals.requests, g.totals.cost_usd) for g in report.groups] == [
        ("chat", 1, Decimal("0.04"))
    ]


class _SlowSpendStore(MemorySpendStore):
    """Settles only when the test opens the gate, as a remote store might."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def settle(
        self, lines: Sequence[BudgetLine], reserved_units: int, record: SpendRecord | None
    ) -> None:
        await self.gate.wait()
        await super().settle(lines, reserved_units, record)


async def test_a_settlement_survives_its_caller_being_cancelled(clock: FakeClock) -> None:
    store = _SlowSpendStore()
    gov = service(clock, spend=store)  # stores that wait: settlement is shielded
    admission = await admit(gov, tenant=BILLING)
    settling = asyncio.ensure_future(spend(gov, admission, "0.25"))
    await asyncio.sleep(0.01)
    settling.cancel()  # the client hung up mid-settlement
    with pytest.raises(asyncio.CancelledError):
        await settling
    store.gate.set()
    await asyncio.sleep(0.01)
    balances = await store.balances(admission.lines)
    assert balances[0].committed_units == to_units(Decimal("0.25"))


async def test_stores_that_never_wait_settle_without_a_task(clock: FakeClock) -> None:
    store = MemorySpendStore()
    gov = GovernanceService(
        directory=directory(),
        spend=store,
        limiter=MemoryRateLimiter(),
        quality=MemoryQualityStore(),
        quality_rule=RULE,
        wall_clock=clock,
        stores_wait=False,
    )
    admission = await admit(gov, tenant=BILLING)
    tasks: list[object] = []

    def counting(loop: asyncio.AbstractEventLoop, coro: Any, **kw: Any) -> asyncio.Task[Any]:
        tasks.append(coro)
        return asyncio.Task(coro, loop=loop, **kw)

    asyncio.get_running_loop().set_task_factory(counting)
    try:
        await spend(gov, admission, "0.25")
    finally:
        asyncio.get_running_loop().set_task_factory(None)
    assert tasks == []
    balances = await store.balances(admission.lines)
    assert balances[0].committed_units == to_units(Decimal("0.25"))


async def test_soft_limit_downgrades_and_hard_limit_rejects(clock: FakeClock) -> None:
    gov = service(clock)
    await spend(gov, await admit(gov), "1.00")
    downgraded = await admit(gov)
    assert downgraded.downgrade_to_economy
    assert downgraded.reason == "budget"
    assert downgraded.reservation_usd == Decimal("0.01")
    await spend(gov, downgraded, "0.995")
    clock.advance(60)
    with pytest.raises(HardLimitReached) as caught:
        await admit(gov)
    assert isinstance(caught.value, BudgetExceeded)
    assert caught.value.code == "budget_exceeded"
    assert caught.value.retry_after_s == pytest.approx(12 * 3600 - 90)


async def test_a_daily_limit_starts_over_on_the_next_utc_day(clock: FakeClock) -> None:
    gov = service(clock)
    await spend(gov, await admit(gov, feature="rerank"), "0.30")
    with pytest.raises(HardLimitReached):
        await admit(gov, feature="rerank", economy=None)
    clock.advance(12 * 3600)  # past midnight UTC: new daily lines, same tenant and feature
    admitted = await admit(gov, feature="rerank", economy=None)
    assert admitted.day == "2025-03-15"
    assert not admitted.downgrade_to_economy


async def test_changed_budgets_apply_to_the_next_call(clock: FakeClock) -> None:
    gov = service(clock)
    await spend(gov, await admit(gov, tenant=BILLING), "0.50")
    capped = Tenant(name="billing", budget=Budget(daily=SpendLimit(hard_usd=Decimal("0.40"))))
    with pytest.raises(HardLimitReached):  # same tenant name, new settings (a config reload)
        await admit(gov, tenant=capped)


async def test_feature_budget_rejects_only_that_feature(clock: FakeClock) -> None:
    gov = service(clock)
    await spend(gov, await admit(gov, feature="rerank"), "0.29")
    with pytest.raises(BudgetExceeded, match="feature search/rerank daily"):
        await admit(gov, feature="rerank", economy=None)
    assert not (await admit(gov, feature="chat")).downgrade_to_economy


async def test_max_cost_header_downgrades_or_rejects(clock: FakeClock) -> None:
    gov = service(clock)
    admission = await admit(gov, tenant=BILLING, max_cost="0.05")
    assert (admission.downgrade_to_economy, admission.reason) == (True, "max-cost")
    with pytest.raises(MaxCostExceeded) as caught:
        await admit(gov, tenant=BILLING, max_cost="0.001")
    assert caught.value.param == "x-tiergate-max-cost-usd"
    with pytest.raises(InvalidRequest):
        await admit(gov, tenant=BILLING, max_cost="lots")


async def test_rate_limit_refuses_with_headers_and_retry_after(clock: FakeClock) -> None:
    gov = service(clock)
    for _ in range(3):
        await gov.release(await admit(gov, worst="0", economy=None))
    with pytest.raises(TenantRateLimited) as caught:
        await admit(gov)
    assert isinstance(caught.value, RateLimited)
    assert caught.value.headers["x-ratelimit-remaining-requests"] == "0"
    assert caught.value.retry_after_s > 0
    clock.advance(120)
    await admit(gov)


async def test_tokens_are_corrected_to_the_actual_usage(clock: FakeClock) -> None:
    limiter = MemoryRateLimiter()
    tenant = Tenant(name="search", rate_limit=RateLimit(tokens_per_minute=2000))
    gov = service(clock, limiter=limiter)
    first = await admit(gov, tenant=tenant, tokens=1500)
    with pytest.raises(RateLimited):
        await admit(gov, tenant=tenant, tokens=1000)
    await spend(gov, first, "0")  # used 150 tokens, not 1500
    second = await admit(gov, tenant=tenant, tokens=1000)
    assert second.rate_limit_headers["x-ratelimit-remaining-tokens"] == "850"


async def test_a_budget_refusal_gives_its_tokens_back(clock: FakeClock) -> None:
    tenant = Tenant(
        name="search",
        rate_limit=RateLimit(tokens_per_minute=2000),
        budget=Budget(daily=SpendLimit(hard_usd=Decimal("0.01"))),
    )
    gov = service(clock)
    with pytest.raises(BudgetExceeded):
        await admit(gov, tenant=tenant, tokens=1500, economy=None)
    assert (await admit(gov, tenant=tenant, tokens=1500, worst="0.001")).minute is not None


async def test_concurrent_admissions_never_reserve_past_the_hard_limit(clock: FakeClock) -> None:
    tenant = Tenant(name="search", budget=Budget(daily=SpendLimit(hard_usd=Decimal("1"))))
    gov = service(clock)

    async def call() -> bool:
        try:
            admission = await admit(gov, tenant=tenant, worst="0.03", economy=None)
        except BudgetExceeded:
            return False
        await asyncio.sleep(0.001)
        await spend(gov, admission, "0.03")
        return True

    done = await asyncio.gather(*(call() for _ in range(100)))
    assert sum(done) == 33  # 33 * 0.03 <= 1 < 34 * 0.03
    report = await gov.spend_report(FINANCE, "tenant", None, None)
    assert report.total.cost_usd == Decimal("0.99")


async def test_spend_report_is_scoped_to_the_caller_unless_admin(clock: FakeClock) -> None:
    gov = service(clock)
    await spend(gov, await admit(gov, tenant=SEARCH), "0.10")
    await spend(gov, await admit(gov, tenant=BILLING), "0.20")
    own = await gov.spend_report(BILLING, "tenant", None, None)
    assert [g.key for g in own.groups] == ["billing"]
    everyone = await gov.spend_report(FINANCE, "tenant", "2025-03-14", "2025-03-14")
    assert [g.key for g in everyone.groups] == ["billing", "search"]
    assert everyone.total.cost_usd == Decimal("0.30")
    assert everyone.total.savings_usd == Decimal("2.70")
    with pytest.raises(InvalidRequest, match="group_by"):
        await gov.spend_report(FINANCE, "colour", None, None)
    later = await gov.spend_report(FINANCE, "day", "2025-03-15", "2025-03-20")
    assert later.groups == ()


async def test_feedback_demotes_a_model_and_restore_undoes_it(clock: FakeClock) -> None:
    gov = service(clock)
    for index in range(3):
        await gov.remember(f"r{index}", SEARCH, "economy", "bad-model")
    first = await gov.record_feedback(SEARCH, "r0", thumbs="down")
    assert (first.entry.stat.samples, first.entry.demoted) == (1, False)
    await gov.record_feedback(SEARCH, "r1", score=0.2)
    third = await gov.record_feedback(SEARCH, "r2", thumbs="up")
    assert third.entry.demoted  # mean 0.4 < 0.8 after 3 samples
    assert await gov.feedback.demoted_models("economy") == {"bad-model"}
    view = await gov.quality_view()
    assert [(e.route, e.model, e.demoted) for e in view] == [("economy", "bad-model", True)]
    with pytest.raises(PermissionDenied):
        await gov.restore(SEARCH, "economy", "bad-model")
    restored = await gov.restore(FINANCE, "economy", "bad-model")
    assert not restored.demoted
    assert await gov.feedback.demoted_models("economy") == frozenset()


async def test_feedback_is_once_per_request_and_per_tenant(clock: FakeClock) -> None:
    gov = service(clock)
    await gov.remember("r1", SEARCH, "economy", "m")
    with pytest.raises(UnknownRequestId):
        await gov.record_feedback(BILLING, "r1", thumbs="up")  # not theirs
    await gov.record_feedback(SEARCH, "r1", thumbs="up")
    with pytest.raises(UnknownRequestId):
        await gov.record_feedback(SEARCH, "r1", thumbs="up")  # already rated
    await gov.remember("r2", SEARCH, "economy", "m")
    await gov.record_feedback(FINANCE, "r2", score=1.0)  # admins may rate anyone's


async def test_apply_demotions_prunes_the_plan(clock: FakeClock) -> None:
    quality = MemoryQualityStore()
    await quality.set_demoted("economy", "a", True)
    gov = service(clock, quality=quality)
    models = [Model(name, name, Decimal(1), Decimal(1), 100, 10) for name in ("a", "b")]
    plan = RoutePlan("economy", "economy", "named", "r", tuple(Candidate(m, None) for m in models))
    pruned = await gov.apply_demotions(plan)
    assert [c.model.id for c in pruned.candidates] == ["b"]


class BrokenSpendStore:
    """A spend store whose backend is down."""

    def __init__(self) -> None:
        self.calls = 0

    async def balances(self, lines: Sequence[BudgetLine]) -> list[Balance]:
        return self._fail()

    async def reserve(self, lines: Sequence[BudgetLine], amount_units: int) -> ReserveOutcome:
        return self._fail()

    async def settle(
        self, lines: Sequence[BudgetLine], reserved_units: int, record: SpendRecord | None
    ) -> None:
        self._fail()

    async def rows(self, days: Sequence[str], tenant: str | None) -> list[SpendRow]:
        return self._fail()

    async def ping(self) -> None:
        self._fail()

    def _fail(self) -> NoReturn:
        self.calls += 1
        raise StoreUnavailable("spend store down")


class BrokenLimiter:
    async def acquire(self, *args: object, **kwargs: object) -> object:
        raise StoreUnavailable("limiter down")

    async def correct_tokens(self, tenant: str, minute: int, delta: int) -> None:
        raise StoreUnavailable("limiter down")


async def test_a_dead_store_fails_open_and_is_counted(clock: FakeClock) -> None:
    failures: list[str] = []
    broken = BrokenSpendStore()
    gov = GovernanceService(
        directory=directory(),
        spend=broken,
        limiter=BrokenLimiter(),  # type: ignore[arg-type]
        quality=MemoryQualityStore(),
        quality_rule=RULE,
        wall_clock=clock,
        on_store_failure=failures.append,
    )
    admission = await admit(gov)
    assert admission.reserved_units == 0
    assert admission.rate_limit_headers == {}
    await spend(gov, admission, "0.05")  # never raises
    assert failures == ["rate limit", "balances", "settle"]
    assert gov.store_failures == 3
    with pytest.raises(StoreUnavailable):  # a report cannot be made up
        await gov.spend_report(FINANCE, "tenant", None, None)


def test_tenant_named_finds_the_authenticated_tenant(clock: FakeClock) -> None:
    gov = service(clock)
    assert gov.tenant_named("search") is SEARCH
    with pytest.raises(AuthenticationFailed):
        gov.tenant_named("default")
    open_gov = GovernanceService(
        directory=TenantDirectory(),
        spend=MemorySpendStore(),
        limiter=MemoryRateLimiter(),
        quality=MemoryQualityStore(),
        quality_rule=RULE,
    )
    assert open_gov.tenant_named("default").name == "default"

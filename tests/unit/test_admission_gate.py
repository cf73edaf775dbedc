"""AdmissionGate.settle: a call's spend is recorded once, whatever it spent it on."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from adapters.memory_limiter import MemoryRateLimiter
from adapters.memory_quality_store import MemoryQualityStore
from adapters.memory_spend_store import MemorySpendStore
from app.services.admission_gate import AdmissionGate, AdmittedCall
from app.services.answer_cache import EmbeddingSpend
from app.services.attempts import AttemptLog
from app.services.governance import GovernanceService
from domain.budgets import Balance, CostQuote
from domain.ledger import to_units
from domain.pricing import Usage, embedding_cost
from domain.quality import QualityRule
from domain.route_plan import Candidate, RoutePlan
from domain.tenants import Tenant, TenantDirectory, hash_key
from tests.fakes import FakeClock
from tests.unit.routing_fixtures import bundled

CATALOG, POLICY = bundled()
FLASH = CATALOG.find("deepseek-ai/DeepSeek-V4-Flash")
GPT4O = CATALOG.find("openai/gpt-4o")
OPS = Tenant(name="ops", admin=True)
EMBEDDING = EmbeddingSpend(
    model="BAAI/bge-m3", usage=Usage(input_tokens=40), cost=embedding_cost(40, Decimal("0.01"))
)


def _gate() -> tuple[AdmissionGate, GovernanceService, MemorySpendStore]:
    spend = MemorySpendStore()
    governance = GovernanceService(
        directory=TenantDirectory.of([(OPS, [hash_key("sk-ops")])]),
        spend=spend,
        limiter=MemoryRateLimiter(),
        quality=MemoryQualityStore(),
        quality_rule=QualityRule(window=5, min_samples=3, demote_below=0.8, restore_at=0.9),
        wall_clock=FakeClock(datetime(2025, 3, 14, 12, tzinfo=UTC).timestamp()),
    )
    return AdmissionGate(governance=governance, policy=POLICY), governance, spend


async def _admitted(governance: GovernanceService) -> AdmittedCall:
    assert FLASH is not None
    admission = await governance.admit(
        OPS,
        "faq",
        estimated_tokens=100,
        worst_case=lambda: CostQuote(Decimal("0.01"), None),
        max_cost_header=None,
    )
    plan = RoutePlan("economy", "economy", "auto", "r", (Candidate(FLASH, None),))
    return AdmittedCall(plan=plan, admission=admission, tenant=OPS)


async def test_an_embedding_with_no_attempt_after_it_is_still_recorded() -> None:
    # e.g. the semantic lookup used up the deadline, or the client left before the upstream call
    assert GPT4O is not None
    gate, governance, spend = _gate()
    call = await _admitted(governance)
    log = AttemptLog(baseline=GPT4O)
    log.add_embedding(EMBEDDING)

    await gate.settle(call, log, model="deepseek-ai/DeepSeek-V4-Flash")

    balance = (await spend.balances(call.admission.lines))[0]
    assert balance == Balance(committed_units=to_units(Decimal("0.0000004")), reserved_units=0)
    report = await governance.spend_report(OPS, "feature", None, None)
    assert [(g.key, g.totals.requests, g.totals.cost_usd) for g in report.groups] == [
        ("faq", 1, Decimal("0.0000004"))
    ]


async def test_a_call_that_spent_nothing_only_releases_its_reservation() -> None:
    assert GPT4O is not None
    gate, governance, spend = _gate()
    call = await _admitted(governance)

    await gate.settle(call, AttemptLog(baseline=GPT4O), model="deepseek-ai/DeepSeek-V4-Flash")

    assert (await spend.balances(call.admission.lines))[0] == Balance(0, 0)
    assert (await governance.spend_report(OPS, "feature", None, None)).groups == ()

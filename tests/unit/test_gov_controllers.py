"""GET /v1/spend, POST /v1/feedback, GET /v1/feedback/quality and restore, over Litestar."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from litestar import Litestar
from litestar.exceptions import HTTPException
from litestar.testing import TestClient

from adapters.memory_limiter import MemoryRateLimiter
from adapters.memory_quality_store import MemoryQualityStore
from adapters.memory_spend_store import MemorySpendStore
from app.controllers.feedback import FeedbackController
from app.controllers.spend import SpendController
from app.error_responses import handle_gateway_error, handle_http_exception, handle_unexpected
from app.governance_dependencies import GOVERNANCE_DEPENDENCIES
from app.services.governance import GovernanceService
from domain.budgets import CostQuote
from domain.errors import GatewayError
from domain.pricing import Cost, Usage
from domain.quality import QualityRule
from domain.tenants import Tenant, TenantDirectory, hash_key

NOW = datetime(2025, 3, 14, 12, tzinfo=UTC).timestamp()
SEARCH = Tenant(name="search")
ADMIN = Tenant(name="ops", admin=True)
AS_SEARCH = {"authorization": "Bearer sk-search"}
AS_ADMIN = {"authorization": "Bearer sk-ops"}
MODEL = "Qwen/Qwen3-8B"


def governance() -> GovernanceService:
    return GovernanceService(
        directory=TenantDirectory.of(
            [(SEARCH, [hash_key("sk-search")]), (ADMIN, [hash_key("sk-ops")])]
        ),
        spend=MemorySpendStore(),
        limiter=MemoryRateLimiter(),
        quality=MemoryQualityStore(),
        quality_rule=QualityRule(window=4, min_samples=2),
        wall_clock=lambda: NOW,
    )


def app_with(gov: GovernanceService) -> Litestar:
    app = Litestar(
        route_handlers=[SpendController, FeedbackController],
        dependencies=GOVERNANCE_DEPENDENCIES,
        exception_handlers={
            GatewayError: handle_gateway_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
    )
    app.state.governance = gov
    return app


@pytest.fixture
def gov() -> GovernanceService:
    return governance()


@pytest.fixture
def client(gov: GovernanceService) -> Iterator[TestClient[Litestar]]:
    with TestClient(app_with(gov)) as test_client:
        yield test_client


def record_calls(gov: GovernanceService) -> None:
    async def calls() -> None:
        for tenant, feature, usd in ((SEARCH, "rerank", "0.25"), (ADMIN, "digest", "0.5")):
            admission = await gov.admit(
                tenant, feature, estimated_tokens=10, worst_case=lambda: CostQuote(Decimal(1))
            )
            await gov.settle(
                admission,
                cost=Cost(usd=Decimal(usd), baseline_usd=Decimal(2)),
                usage=Usage(7, 3),
                route="economy",
                model=MODEL,
            )
            await gov.remember(f"req-{tenant.name}", tenant, "economy", MODEL)

    asyncio.run(calls())


def test_spend_needs_a_key(client: TestClient[Litestar]) -> None:
    reply = client.get("/v1/spend")
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "invalid_api_key"


def test_spend_report_grouped_with_exact_money(
    client: TestClient[Litestar], gov: GovernanceService
) -> None:
    record_calls(gov)
    reply = client.get("/v1/spend", params={"group_by": "feature"}, headers=AS_ADMIN)
    assert reply.status_code == 200
    body = reply.json()
    assert (body["object"], body["group_by"], body["from"], body["to"]) == (
        "spend.report",
        "feature",
        "2025-03-01",
        "2025-03-14",
    )
    assert body["data"][0] == {
        "group": "digest",
        "requests": 1,
        "input_tokens": 7,
        "output_tokens": 3,
        "total_tokens": 10,
        "cost_usd": "0.5000000000",
        "baseline_cost_usd": "2.0000000000",
        "savings_usd": "1.5000000000",
    }
    assert body["total"]["cost_usd"] == "0.7500000000"
    assert body["total"]["requests"] == 2


def test_a_tenant_sees_only_its_own_spend(
    client: TestClient[Litestar], gov: GovernanceService
) -> None:
    record_calls(gov)
    body = client.get("/v1/spend?group_by=tenant", headers=AS_SEARCH).json()
    assert [group["group"] for group in body["data"]] == ["search"]


@pytest.mark.parametrize(
    "query", ["group_by=colour", "from=2025-02-30", "from=2025-03-10&to=2025-03-01"]
)
def test_bad_report_parameters_are_400(client: TestClient[Litestar], query: str) -> None:
    reply = client.get(f"/v1/spend?{query}", headers=AS_ADMIN)
    assert reply.status_code == 400
    assert reply.json()["error"]["type"] == "invalid_request_error"


def test_feedback_then_quality_then_restore(
    client: TestClient[Litestar], gov: GovernanceService
) -> None:
    record_calls(gov)
    asyncio.run(gov.remember("req-2", SEARCH, "economy", MODEL))
    first = client.post(
        "/v1/feedback", json={"request_id": "req-search", "thumbs": "down"}, headers=AS_SEARCH
    )
    assert first.status_code == 200
    assert first.json() == {
        "object": "feedback",
        "request_id": "req-search",
        "score": 0.0,
        "quality": {
            "route": "economy",
            "model": MODEL,
            "samples": 1,
            "quality": 0.0,
            "demoted": False,
        },
    }
    second = client.post(
        "/v1/feedback", json={"request_id": "req-2", "score": 0.5}, headers=AS_SEARCH
    )
    assert second.json()["quality"]["demoted"] is True
    quality = client.get("/v1/feedback/quality", headers=AS_SEARCH).json()
    assert quality["rule"] == {
        "window": 4,
        "min_samples": 2,
        "demote_below": 0.8,
        "restore_at": 0.85,
    }
    assert quality["data"] == [
        {"route": "economy", "model": MODEL, "samples": 2, "quality": 0.25, "demoted": True}
    ]
    path = f"/v1/feedback/demotions/economy/{MODEL}"
    denied = client.delete(path, headers=AS_SEARCH)
    assert (denied.status_code, denied.json()["error"]["code"]) == (403, "permission_denied")
    restored = client.delete(path, headers=AS_ADMIN)
    assert restored.status_code == 200
    assert restored.json()["demoted"] is False
    # the scores start again, so the pair has nothing to show until new feedback arrives
    assert client.get("/v1/feedback/quality", headers=AS_ADMIN).json()["data"] == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"request_id": "nope", "thumbs": "up"}, "unknown_request_id"),
        ({"request_id": "req-search"}, "invalid_request"),
        ({"request_id": "req-search", "score": 2}, "invalid_request"),
        ({"request_id": "req-search", "thumbs": "sideways"}, "invalid_request"),
        ({"request_id": "req-search", "score": 1, "extra": 1}, "invalid_request"),
    ],
)
def test_bad_feedback_is_400(
    client: TestClient[Litestar], gov: GovernanceService, body: dict[str, object], code: str
) -> None:
    record_calls(gov)
    reply = client.post("/v1/feedback", json=body, headers=AS_SEARCH)
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == code


def test_the_endpoints_are_in_the_openapi_schema(client: TestClient[Litestar]) -> None:
    schema = client.get("/schema/openapi.json").json()
    assert {"/v1/spend", "/v1/feedback", "/v1/feedback/quality"} <= set(schema["paths"])
    parameters = {p["name"] for p in schema["paths"]["/v1/spend"]["get"]["parameters"]}
    assert {"group_by", "from", "to"} <= parameters

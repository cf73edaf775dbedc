"""Wire Structs for /v1/spend and /v1/feedback, and the small functions that fill them.

Money travels as fixed-point strings (`format_usd`), so totals add up exactly on the client too.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from app.services.quality_feedback import FeedbackOutcome, QualityEntry
from domain.ledger import SpendTotals
from domain.pricing import format_usd
from domain.quality import QualityRule
from domain.spend_report import SpendReport


class SpendTotalsView(msgspec.Struct, kw_only=True):
    requests: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost_usd: str
    baseline_cost_usd: str
    savings_usd: str


class SpendGroupView(SpendTotalsView, kw_only=True):
    group: str


class SpendReportView(msgspec.Struct, kw_only=True):
    object: str = "spend.report"
    group_by: str
    from_: str = msgspec.field(name="from")
    to: str
    data: list[SpendGroupView]
    total: SpendTotalsView


class FeedbackBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    request_id: Annotated[str, Meta(min_length=1, max_length=200)]
    score: float | None = None
    thumbs: Literal["up", "down"] | None = None


class QualityEntryView(msgspec.Struct, kw_only=True):
    route: str
    model: str
    samples: int
    quality: float | None
    demoted: bool


class FeedbackView(msgspec.Struct, kw_only=True):
    object: str = "feedback"
    request_id: str
    score: float
    quality: QualityEntryView


class QualityRuleView(msgspec.Struct, kw_only=True):
    window: int
    min_samples: int
    demote_below: float
    restore_at: float


class QualityView(msgspec.Struct, kw_only=True):
    object: str = "quality"
    rule: QualityRuleView
    data: list[QualityEntryView]


def spend_report_view(report: SpendReport) -> SpendReportView:
    return SpendReportView(
        group_by=report.group_by.value,
        from_=report.from_day,
        to=report.to_day,
        data=[SpendGroupView(group=group.key, **_totals(group.totals)) for group in report.groups],
        total=SpendTotalsView(**_totals(report.total)),
    )


def quality_entry_view(entry: QualityEntry) -> QualityEntryView:
    mean = entry.stat.mean
    return QualityEntryView(
        route=entry.route,
        model=entry.model,
        samples=entry.stat.samples,
        quality=None if mean is None else round(mean, 4),
        demoted=entry.demoted,
    )


def feedback_view(outcome: FeedbackOutcome) -> FeedbackView:
    return FeedbackView(
        request_id=outcome.request_id,
        score=outcome.score,
        quality=quality_entry_view(outcome.entry),
    )


def quality_view(rule: QualityRule, entries: list[QualityEntry]) -> QualityView:
    return QualityView(
        rule=QualityRuleView(
            window=rule.window,
            min_samples=rule.min_samples,
            demote_below=rule.demote_below,
            restore_at=rule.restore_at,
        ),
        data=[quality_entry_view(entry) for entry in entries],
    )


def _totals(totals: SpendTotals) -> dict[str, Any]:
    return {
        "requests": totals.requests,
        "input_tokens": totals.input_tokens,
        "output_tokens": totals.output_tokens,
        "total_tokens": totals.total_tokens,
        "cost_usd": format_usd(totals.cost_usd),
        "baseline_cost_usd": format_usd(totals.baseline_usd),
        "savings_usd": format_usd(totals.savings_usd),
    }

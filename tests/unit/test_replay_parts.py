"""The replay's pieces without a gateway: reading lines, stream costs, adding up, rendering."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

import pytest

from app.replay.driver import ReplayResult, ReplayTarget
from app.replay.html_report import render_html
from app.replay.stream_usage import StreamUsage
from app.replay.summary import percentile, summarize
from app.replay.workload import WorkloadError, parse_line


def test_replay_fields_are_taken_out_and_the_rest_travels_untouched() -> None:
    line = (
        b'{"tenant": "search", "feature": "faq", "delay_ms": 12, "api_key": "sk-1",'
        b' "model": "auto", "messages": [{"role": "user", "content": "hi"}], "top_k": 3}'
    )
    request = parse_line(line, 4, seed=9)
    body = json.loads(request.body)
    assert body == {
        "model": "auto",
        "messages": [{"role": "user", "content": "hi"}],
        "top_k": 3,
        "seed": 9,
    }
    assert (request.line, request.tenant, request.feature, request.api_key) == (
        4,
        "search",
        "faq",
        "sk-1",
    )
    assert request.delay_ms == 12.0
    assert not request.stream


def test_a_requests_own_seed_wins_and_streams_always_ask_for_usage() -> None:
    line = b'{"model": "auto", "messages": [], "seed": 1, "stream": true, "stream_options": {}}'
    request = parse_line(line, 1, seed=9)
    body = json.loads(request.body)
    assert body["seed"] == 1
    assert body["stream_options"] == {"include_usage": True}
    assert request.stream


@pytest.mark.parametrize(
    "line", [b"[1, 2]", b"{not json", b'{"delay_ms": -1}', b'{"tenant": 3}', b'{"delay_ms": "5"}']
)
def test_bad_lines_name_their_line_number(line: bytes) -> None:
    with pytest.raises(WorkloadError, match="line 7"):
        parse_line(line, 7)


def test_the_stream_cost_comes_from_the_final_usage_chunk_exactly() -> None:
    usage = StreamUsage()
    for line in (
        'data: {"choices": [{"delta": {"content": "hi"}}]}',
        "",
        'data: {"choices": [], "usage": {"prompt_tokens": 3, "cost": 0.0000001234,'
        ' "cost_details": {"baseline_cost": 0.0000123400, "saving": 0.0000122166}}}',
        "data: [DONE]",
    ):
        usage.add_line(line)
    assert usage.cost == Decimal("0.0000001234")
    assert usage.baseline_cost == Decimal("0.0000123400")
    assert usage.error is None
    usage.add_line('data: {"error": {"message": "cut", "code": "stream_interrupted"}}')
    assert usage.error == "stream stream_interrupted"


def test_the_target_picks_the_lines_key_then_the_tenants_then_the_default() -> None:
    target = ReplayTarget("http://gw:8080/v1/", api_key="sk-d", tenant_keys={"a": "sk-a"})
    assert target.endpoint == "http://gw:8080/v1/chat/completions"
    own = parse_line(b'{"tenant": "a", "api_key": "sk-own", "feature": "f"}', 1)
    assert target.headers_for(own)["authorization"] == "Bearer sk-own"
    assert target.headers_for(own)["x-tiergate-feature"] == "f"
    assert target.headers_for(parse_line(b'{"tenant": "a"}', 1))["authorization"] == "Bearer sk-a"
    assert target.headers_for(parse_line(b'{"tenant": "b"}', 1))["authorization"] == "Bearer sk-d"


def _result(line: int, **fields: object) -> ReplayResult:
    base: dict[str, object] = {"tenant": "t", "feature": "f", "status": 200, "latency_s": line}
    return ReplayResult(line=line, **(base | fields))  # type: ignore[arg-type]


def test_the_summary_adds_money_exactly_and_leaves_latency_out_of_the_fingerprint() -> None:
    results = [
        _result(1, cache="miss", model="m1", cost_usd=Decimal("0.1"), baseline_usd=Decimal("1")),
        _result(2, cache="hit", model="m1", baseline_usd=Decimal("1")),
        _result(3, cache="semantic-hit", model="m2", baseline_usd=Decimal("0.2")),
        _result(4, status=404, error="404 model_not_found"),
    ]
    summary = summarize(results, workload="w.jsonl", seed=1, concurrency=1, wall_s=1.0)
    assert (summary.requests, summary.answered, summary.error_count) == (4, 3, 1)
    assert summary.hit_rate == pytest.approx(2 / 3)
    assert summary.models == Counter({"m1": 2, "m2": 1})
    assert summary.total.cost_usd == Decimal("0.1")
    assert summary.saving_usd == Decimal("2.1")
    assert summary.latency_p50_ms == 2000.0
    slower = [_result(r.line, **{**_fields(r), "latency_s": 9.0}) for r in results]
    again = summarize(slower, workload="w.jsonl", seed=1, concurrency=1, wall_s=5.0)
    assert again.fingerprint() == summary.fingerprint()
    html = render_html(summary)
    assert html.count("<svg") == 2 and "<script" not in html and "src=" not in html


def _fields(result: ReplayResult) -> dict[str, object]:
    names = ("tenant", "feature", "status", "error", "cache", "model", "route")
    return {name: getattr(result, name) for name in names} | {
        "cost_usd": result.cost_usd,
        "baseline_usd": result.baseline_usd,
    }


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([], 0.5) == 0.0

"""The replay report as one self-contained HTML file: tables and inline SVG charts."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from app.replay.summary import ReplaySummary, SpendLine
from app.replay.svg_chart import BarRow, bar_chart
from app.replay.text_report import render_text
from domain.pricing import format_usd

_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 64em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { padding: 0.25em 0.8em; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
"""


def render_html(summary: ReplaySummary) -> str:
    s = summary
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>tiergate replay: {escape(s.workload)}</title>",
            f"<style>{_STYLE}</style></head><body>",
            f"<h1>Replay of {escape(s.workload)}</h1>",
            f"<pre>{escape(render_text(s))}</pre>",
            _model_chart(s),
            _cost_chart(s),
            "<h2>By model</h2>",
            _table(s.by_model, s),
            "<h2>By tenant</h2>",
            _table(s.by_tenant, s),
            "<h2>By feature</h2>",
            _table(s.by_feature, s),
            "<p>Costs are the gateway's <code>x-tiergate-cost-usd</code> and "
            "<code>x-tiergate-baseline-cost-usd</code> headers (for streams, the final chunk's "
            "<code>usage.cost</code> and <code>cost_details.baseline_cost</code>), added up "
            "exactly. The fingerprint covers every number but latency.</p>",
            "</body></html>",
        ]
    )


def _model_chart(s: ReplaySummary) -> str:
    rows = [
        BarRow(model, (float(count),), (f"{count} ({count / s.answered:.1%})",))
        for model, count in s.models.most_common()
    ]
    return bar_chart("Model mix (answered requests)", rows, series=["requests"])


def _cost_chart(s: ReplaySummary) -> str:
    groups = [("all requests", s.total), *sorted(s.by_feature.items(), key=_by_cost)]
    rows = [
        BarRow(
            name,
            (float(line.cost_usd), float(line.baseline_usd)),
            (f"${line.cost_usd:.6f}", f"${line.baseline_usd:.6f}"),
        )
        for name, line in groups
    ]
    return bar_chart(
        "Cost against the all-baseline cost, by feature",
        rows,
        series=["cost through tiergate", "baseline model for every answer"],
    )


def _by_cost(item: tuple[str, SpendLine]) -> tuple[Decimal, str]:
    return (-item[1].baseline_usd, item[0])


def _table(groups: dict[str, SpendLine], s: ReplaySummary) -> str:
    head = (
        "<tr><th></th><th>requests</th><th>cost USD</th><th>baseline USD</th><th>saving</th></tr>"
    )
    body = []
    for name, line in sorted(groups.items(), key=_by_cost):
        saving = line.baseline_usd - line.cost_usd
        share = f"{saving / line.baseline_usd:.1%}" if line.baseline_usd else "-"
        body.append(
            f"<tr><td>{escape(name)}</td><td>{line.requests}</td>"
            f"<td>{format_usd(line.cost_usd)}</td><td>{format_usd(line.baseline_usd)}</td>"
            f"<td>{share}</td></tr>"
        )
    return f"<table>{head}{''.join(body)}</table>"

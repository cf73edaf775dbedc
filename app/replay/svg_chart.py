"""Horizontal bar charts as inline SVG: no scripts, no external files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

_LABEL_W, _BAR_W, _VALUE_W = 300, 360, 140
_ROW_H, _BAR_H, _TOP, _GROUP_GAP = 26, 9, 34, 10
COLOURS = ("#3b6ea5", "#c8553d")


@dataclass(frozen=True, slots=True)
class BarRow:
    label: str
    values: tuple[float, ...]  # one bar per series
    texts: tuple[str, ...]  # what is printed after each bar


def bar_chart(title: str, rows: Sequence[BarRow], *, series: Sequence[str]) -> str:
    """One group of bars per row (one bar per series), scaled to the largest value."""
    top = max((v for row in rows for v in row.values), default=0.0) or 1.0
    width = _LABEL_W + _BAR_W + _VALUE_W
    gap = _GROUP_GAP if len(series) > 1 else 0
    height = _TOP + (_ROW_H * max(len(series), 1) + gap) * len(rows) + 28
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        'font-family="sans-serif" font-size="12">',
        f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    y = _TOP
    for row in rows:
        parts.append(f'<text x="0" y="{y + 16}">{escape(_clip(row.label))}</text>')
        for index, (value, text) in enumerate(zip(row.values, row.texts, strict=True)):
            length = max(value / top * _BAR_W, 1.0 if value > 0 else 0.0)
            colour = COLOURS[index % len(COLOURS)]
            parts.append(
                f'<rect x="{_LABEL_W}" y="{y + 3}" width="{length:.1f}" height="{_BAR_H * 2}" '
                f'fill="{colour}"><title>{escape(row.label)}: {escape(text)}</title></rect>'
            )
            parts.append(
                f'<text x="{_LABEL_W + length + 6:.1f}" y="{y + 16}">{escape(text)}</text>'
            )
            y += _ROW_H
        y += gap
    if len(series) > 1:
        x = 0
        for index, name in enumerate(series):
            colour = COLOURS[index % len(COLOURS)]
            parts.append(f'<rect x="{x}" y="{y + 8}" width="12" height="12" fill="{colour}"/>')
            parts.append(f'<text x="{x + 16}" y="{y + 18}">{escape(name)}</text>')
            x += 16 + 8 * len(name) + 24
    parts.append("</svg>")
    return "\n".join(parts)


def _clip(label: str, limit: int = 44) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"

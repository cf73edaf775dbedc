"""Markdown for docs/benchmarks.md: each measured section replaces the text between its markers."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

Cells = dict[tuple[str, str, int], dict[str, Any]]
TARGETS = (
    ("direct", "direct"),
    ("passthrough", "aiohttp pass-through"),
    ("floor", "stack floor"),
    ("tiergate", "tiergate"),
    ("tiergate-hit", "tiergate cache hit"),
    ("tiergate-traced", "tiergate traced (OTLP)"),
    ("litellm", "LiteLLM"),
)
MODE_NAMES = {"json": "non-streaming", "sse": "streaming (20 chunks)"}


def _index(cells: list[dict[str, Any]]) -> Cells:
    return {(c["target"], c["mode"], c["connections"]): c for c in cells}


def _peak(cells: Cells, target: str, mode: str) -> float | None:
    values = [c["rps"] for (t, m, _), c in cells.items() if t == target and m == mode]
    return max(values) if values else None


def _rps(cells: Cells, target: str, mode: str, connections: int) -> float | None:
    cell = cells.get((target, mode, connections))
    return float(cell["rps"]) if cell else None


def _added(cells: Cells, target: str, mode: str, connections: int) -> float | None:
    mine, direct = cells.get((target, mode, connections)), cells.get(("direct", mode, connections))
    return mine["p50_ms"] - direct["p50_ms"] if mine and direct else None


def _fmt(value: float | None, spec: str = ".0f", suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def render_run(meta: dict[str, Any]) -> str:
    facts = [
        ("when", f"{meta['date']}, {meta['minutes']} min"),
        ("machine", f"{meta['nproc']} CPUs ({meta['cpu']}), Linux {meta['kernel']}"),
        ("load average (1/5/15 min)", f"before {meta['load_before']}, after {meta['load_after']}"),
        ("tiergate", meta["tiergate"]),
        ("python", meta["python"]),
        (
            "versions",
            f"LiteLLM {meta['litellm']}, {meta['wrk']}, uvicorn {meta['uvicorn']}, "
            f"Litestar {meta['litestar']}, httpx {meta['httpx']}, "
            f"aiohttp {meta.get('aiohttp', 'n/a')}",
        ),
        (
            "settings",
            "{reps} repetitions x {duration:g} s per cell (medians), {warmup:g} s warm-up, "
            "concurrency {concurrency}; gateway on CPU {gateway_cpus}, wrk + simulator on "
            "CPU {load_cpus}".format(**meta["args"]),
        ),
        ("command", f"`{meta['command'].strip()}`"),
    ]
    return "\n".join(f"- {k}: {v}" for k, v in facts)


def render_results(results: dict[str, Any]) -> str:
    cells = _index(results["cells"])
    present = [(k, n) for k, n in TARGETS if any(t == k for t, _, _ in cells)]
    concurrencies = sorted({c for _, _, c in cells})
    modes = [m for m in MODE_NAMES if any(md == m for _, md, _ in cells)]
    rps_rows, latency_rows, cost_rows = [], [], []
    for mode in modes:
        for c in concurrencies:
            row = [MODE_NAMES[mode], str(c)]
            row += [
                _fmt(cells[(k, mode, c)]["rps"]) if (k, mode, c) in cells else "n/a"
                for k, _ in present
            ]
            tg, ll, pt = (_rps(cells, k, mode, c) for k in ("tiergate", "litellm", "passthrough"))
            row.append(_fmt(_ratio(tg, ll), ".1f", "x"))
            row.append(_fmt(_ratio(tg, pt), ".0%"))
            row.append(_fmt(_ratio(_rps(cells, "floor", mode, c), pt), ".0%"))
            rps_rows.append(row)
            lat = [MODE_NAMES[mode], str(c)]
            for k, _ in present:
                cell, added = cells.get((k, mode, c)), _added(cells, k, mode, c)
                text = "n/a" if cell is None else f"{cell['p50_ms']:.2f} / {cell['p99_ms']:.1f}"
                if cell is not None and k != "direct" and added is not None:
                    text += f" (+{added:.2f})"
                lat.append(text)
            latency_rows.append(lat)
    for k, name in present:
        for mode in modes:
            for c in concurrencies:
                cell = cells.get((k, mode, c))
                if cell is None:
                    continue
                idle = results["idle_rss_mib"].get(k)
                cost_rows.append(
                    [
                        name,
                        MODE_NAMES[mode],
                        str(c),
                        f"{cell['cpu_pct']:.0f}",
                        f"{cell['cpu_ms_per_request']:.2f}",
                        f"{cell['rss_mib']:.0f}",
                        _fmt(idle, ".0f"),
                        str(cell["errors"]),
                    ]
                )
    names = [n for _, n in present]
    parts = [
        "Requests/s (median of the repetitions):\n",
        _table(
            [
                "mode",
                "c",
                *names,
                "tiergate / LiteLLM",
                "tiergate / pass-through",
                "floor / pass-through",
            ],
            rps_rows,
        ),
        "\nLatency p50 / p99 in ms, and in brackets the p50 added over calling the simulator "
        "directly at the same concurrency:\n",
        _table(["mode", "c", *names], latency_rows),
        "\nServer cost (the direct rows are the simulator itself, sharing its core with wrk). CPU "
        "is utime+stime of the server's processes over the run, in % of one core:\n",
        _table(
            [
                "server",
                "mode",
                "c",
                "CPU %",
                "CPU ms/request",
                "RSS MiB (peak)",
                "RSS MiB (idle)",
                "errors",
            ],
            cost_rows,
        ),
        "\n" + render_targets(results, cells),
    ]
    if results["notes"]:
        parts.append("\nNotes from this run: " + "; ".join(results["notes"]) + ".")
    return "\n".join(parts)


def render_targets(results: dict[str, Any], cells: Cells) -> str:
    rows: list[list[str]] = []

    def add(
        what: str, need: str, value: float | None, shown: str, ok: Callable[[float], bool]
    ) -> None:
        verdict = "not measured" if value is None else ("**met**" if ok(value) else "not met")
        rows.append([what, need, shown if value is not None else "n/a", verdict])

    for mode in ("json", "sse"):
        tg, ll = _peak(cells, "tiergate", mode), _peak(cells, "litellm", mode)
        pt = _peak(cells, "passthrough", mode)
        r = _ratio(tg, ll)
        add(
            f"peak RPS vs LiteLLM, {MODE_NAMES[mode]}",
            ">= 10x",
            r,
            f"{_fmt(tg)} vs {_fmt(ll)} = {_fmt(r, '.1f', 'x')}",
            lambda v: v >= 10,
        )
        r = _ratio(tg, pt)
        add(
            f"peak RPS vs aiohttp pass-through, {MODE_NAMES[mode]}",
            ">= 40%",
            r,
            f"{_fmt(tg)} vs {_fmt(pt)} = {_fmt(r, '.0%')}",
            lambda v: v >= 0.4,
        )
    for mode in ("json", "sse"):
        tg, ll = _added(cells, "tiergate", mode, 1), _added(cells, "litellm", mode, 1)
        bound = ll / 10 if ll is not None else None
        add(
            f"added p50 latency at c=1, {MODE_NAMES[mode]}",
            "<= LiteLLM's / 10",
            tg if bound is not None else None,
            f"{_fmt(tg, '.2f')} ms vs LiteLLM {_fmt(ll, '.2f')} ms (bound {_fmt(bound, '.2f')} ms)",
            (lambda b: lambda v: v <= b)(bound or 0.0),
        )
    hit, miss = _peak(cells, "tiergate-hit", "json"), _peak(cells, "tiergate", "json")
    r = _ratio(hit, miss)
    levels = sorted({c for t, m, c in cells if t == "tiergate" and m == "json"})
    same_c = ", ".join(
        f"c={c}: "
        + _fmt(
            _ratio(_rps(cells, "tiergate-hit", "json", c), _rps(cells, "tiergate", "json", c)),
            ".1f",
            "x",
        )
        for c in levels
    )
    add(
        "cache-hit peak RPS vs miss, non-streaming",
        ">= 3x",
        r,
        f"{_fmt(hit)} vs {_fmt(miss)} = {_fmt(r, '.1f', 'x')} (same concurrency: {same_c})",
        lambda v: v >= 3,
    )
    soak = results.get("soak")
    growth = None
    if soak:
        growth = 100 * (soak["rss_end_mib"] - soak["rss_start_mib"]) / soak["rss_start_mib"]
    add(
        "RSS growth in a 10-minute soak at half of saturation",
        "< 10%",
        growth,
        f"{_fmt(growth, '+.1f', '%')} over {soak['seconds']:.0f} s" if soak else "",
        lambda v: v < 10,
    )
    if soak and soak["seconds"] < 600:
        rows[-1][3] = f"not judged: the soak ran {soak['seconds']:.0f} s, not 600 s"
    return (
        "Issue 8's targets, judged on this run (peak: the best median RPS over concurrencies):\n\n"
        + _table(["target", "needed", "measured", "verdict"], rows)
    )


def render_scaling(results: dict[str, Any]) -> str:
    cells = _index(results["scaling"])
    rows = []
    for mode in MODE_NAMES:
        one, two = cells.get(("tiergate-x1", mode, 64)), cells.get(("tiergate-x2", mode, 64))
        if not one or not two:
            continue
        rows.append(
            [
                MODE_NAMES[mode],
                f"{one['rps']:.0f}",
                f"{two['rps']:.0f}",
                f"{two['rps'] / one['rps']:.2f}x",
                f"{one['cpu_pct']:.0f} / {two['cpu_pct']:.0f}",
                f"{one['p99_ms']:.1f} / {two['p99_ms']:.1f}",
                f"{one['rss_mib']:.0f} / {two['rss_mib']:.0f}",
            ]
        )
    return _table(
        [
            "mode (c=64)",
            "1 worker RPS",
            "2 workers RPS",
            "speed-up",
            "CPU % (1 / 2)",
            "p99 ms (1 / 2)",
            "RSS MiB (1 / 2)",
        ],
        rows,
    )


def render_profiles(results: dict[str, Any]) -> str:
    parts = []
    for prof in results["profiles"]:
        parts.append(
            f"**{MODE_NAMES[prof['mode']]}**, c=16, {prof['samples']} samples "
            f"(raw stacks: `{prof['raw_path']}`)\n"
        )
        parts.append(
            _table(["layer (self time)", "share"], [[k, f"{v:.1f}%"] for k, v in prof["by_layer"]])
        )
        parts.append(
            "\n"
            + _table(
                ["our function (inclusive)", "share"],
                [[f"`{k}`", f"{v:.1f}%"] for k, v in prof["top_inclusive"]],
            )
        )
        parts.append(
            "\n"
            + _table(
                ["any function (self)", "share"],
                [[f"`{k}`", f"{v:.1f}%"] for k, v in prof["top_self"]],
            )
            + "\n"
        )
    return "\n".join(parts)


def render_soak(results: dict[str, Any]) -> str:
    s = results["soak"]
    growth = 100 * (s["rss_end_mib"] - s["rss_start_mib"]) / s["rss_start_mib"]
    step = max(1, len(s["series"]) // 12)
    series = ", ".join(f"{t:.0f}s {m:.1f}" for t, m in s["series"][::step])
    return "\n".join(
        [
            f"- length: {s['seconds']:.0f} s, mix of non-streaming miss, streaming miss and "
            "non-streaming cache hit",
            f"- saturation {s['saturation_rps']:.0f} RPS; target {s['target_rps']:.0f}, achieved "
            f"{s['achieved_rps']:.0f} RPS; p50 {s['p50_ms']:.2f} ms, p99 {s['p99_ms']:.1f} ms; "
            f"errors {s['errors']}; gateway CPU {s['cpu_pct']:.0f}%",
            f"- RSS {s['rss_start_mib']:.1f} MiB -> {s['rss_end_mib']:.1f} MiB "
            f"(max {s['rss_max_mib']:.1f}): **{growth:+.1f}%**",
            f"- RSS over time (MiB): {series}",
        ]
    )


def render(results: dict[str, Any]) -> dict[str, str]:
    sections = {"run": render_run(results["meta"])}
    if results["cells"]:
        sections["results"] = render_results(results)
    if results["scaling"]:
        sections["scaling"] = render_scaling(results)
    if results["profiles"]:
        sections["profile"] = render_profiles(results)
    if results["soak"]:
        sections["soak"] = render_soak(results)
    return sections


def console(sections: dict[str, str]) -> str:
    return "\n\n".join(f"== {name}\n{text}" for name, text in sections.items())


def update_doc(path: Path, sections: dict[str, str]) -> None:
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    for name, body in sections.items():
        start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
        block = f"{start}\n{body}\n{end}"
        found = re.search(re.escape(start) + r".*?" + re.escape(end), text, re.DOTALL)
        if found:
            text = text[: found.start()] + block + text[found.end() :]
        else:
            text = text.rstrip("\n") + f"\n\n## {name}\n\n{block}\n"
    path.write_text(text)

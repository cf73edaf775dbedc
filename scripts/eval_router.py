"""Offline evaluation of the prompt heuristics: complexity scorer, task guess, token estimate.

Run from the repository root: `.venv/bin/python scripts/eval_router.py [--bootstrap N] [--check]`.
The shared evaluation data and tool live in `../shared` (override with TIERGATE_SHARED_DIR).
The router evaluation tool needs numpy; when this interpreter lacks it, the tool runs under the
first interpreter that has it (TIERGATE_EVAL_PYTHON, then `python3` on PATH).
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # the eval tool imports this file by path
    sys.path.insert(0, str(REPO_ROOT))

from domain.complexity import score_complexity  # noqa: E402
from domain.tasks import TaskKind, guess_task  # noqa: E402
from domain.tokens import estimate_tokens  # noqa: E402

BENCHES = ("routellm_mtbench", "routellm_gsm8k")
BASELINES = ("keyword-heuristic (scorer)", "length-threshold (scorer)")
# Dataset labels -> TaskKind. arena_hard_v0.1 rows carry only topic clusters: not scored.
TASK_LABELS: dict[tuple[str, str], TaskKind] = {
    ("mt_bench", "writing"): TaskKind.CREATIVE,
    ("mt_bench", "roleplay"): TaskKind.CREATIVE,
    ("mt_bench", "reasoning"): TaskKind.REASONING,
    ("mt_bench", "math"): TaskKind.REASONING,
    ("mt_bench", "coding"): TaskKind.CODE,
    ("mt_bench", "extraction"): TaskKind.CLASSIFY,
    ("mt_bench", "stem"): TaskKind.CHAT,
    ("mt_bench", "humanities"): TaskKind.CHAT,
    ("arena_hard_v2.0", "coding"): TaskKind.CODE,
    ("arena_hard_v2.0", "math"): TaskKind.REASONING,
    ("arena_hard_v2.0", "creative_writing"): TaskKind.CREATIVE,
}


def score(prompt: str, info: dict[str, object]) -> float:
    """Scorer entry point for shared/tools/eval_router.py: sees the prompt text only."""
    return score_complexity(prompt)


def shared_dir() -> Path:
    return Path(os.environ.get("TIERGATE_SHARED_DIR", REPO_ROOT.parent / "shared")).resolve()


def numpy_python() -> str | None:
    candidates = [os.environ.get("TIERGATE_EVAL_PYTHON"), sys.executable, shutil.which("python3")]
    for python in filter(None, candidates):
        probe = subprocess.run([python, "-c", "import numpy"], capture_output=True, check=False)
        if probe.returncode == 0:
            return python
    return None


def run_router_eval(shared: Path, bootstrap: int) -> dict[str, list[dict[str, object]]] | None:
    python = numpy_python()
    if python is None:
        print("router eval: skipped (no interpreter with numpy; set TIERGATE_EVAL_PYTHON)")
        return None
    print(f"router eval: {shared / 'tools' / 'eval_router.py'} under {python}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.json"
        command = [
            python,
            str(shared / "tools" / "eval_router.py"),
            "--router",
            f"scorer:{Path(__file__).resolve()}:score",
            "--bench",
            *BENCHES,
            "--bootstrap",
            str(bootstrap),
            "--json",
            str(out),
        ]
        subprocess.run(command, check=True, capture_output=True, text=True)
        results: dict[str, list[dict[str, object]]] = json.loads(out.read_text())
    return results


def _number(row: dict[str, object], key: str) -> float:
    value = row.get(key)
    return float(value) if isinstance(value, int | float) else float("nan")


def _fmt(value: object, pct: bool = False) -> str:
    if not isinstance(value, int | float) or value != value:  # missing or NaN
        return "n/a"
    return f"{100 * value:.1f}%" if pct else f"{value:.3f}"


def print_router_table(results: dict[str, list[dict[str, object]]]) -> bool:
    """Print ours vs the baselines; True when ours beats the keyword baseline's APGR everywhere."""
    beats_everywhere = True
    print("| set | scorer | APGR | APGR 95% CI | CPT(50%) | CPT(80%) | AUROC |")
    print("|---|---|---|---|---|---|---|")
    for bench, rows in results.items():
        by_name = {str(r["router"]): r for r in rows}
        ours = next(r for name, r in by_name.items() if name.endswith(":score"))
        for label, row in [("tiergate", ours)] + [(b, by_name[b]) for b in BASELINES]:
            ci = row.get("APGR_CI95")
            ci_text = f"[{ci[0]:.2f}, {ci[1]:.2f}]" if isinstance(ci, list) else "-"
            print(
                f"| {bench} | {label} | {_fmt(row.get('APGR'))} | {ci_text} "
                f"| {_fmt(row.get('CPT50'), True)} | {_fmt(row.get('CPT80'), True)} "
                f"| {_fmt(row.get('AUROC'))} |"
            )
        keyword = by_name[BASELINES[0]]
        beats_everywhere &= _number(ours, "APGR") > _number(keyword, "APGR")
    return beats_everywhere


def load_jsonl(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def report_task_accuracy(rows: Iterable[dict[str, object]]) -> None:
    confusion: collections.Counter[tuple[TaskKind, TaskKind]] = collections.Counter()
    per_label: collections.Counter[tuple[str, str, bool]] = collections.Counter()
    unlabeled = 0
    for row in rows:
        label = TASK_LABELS.get((str(row["source"]), str(row["category"])))
        if label is None:
            unlabeled += 1
            continue
        guess = guess_task(str(row["prompt"]))
        confusion[(label, guess)] += 1
        per_label[(str(row["source"]), str(row["category"]), guess is label)] += 1
    total = sum(confusion.values())
    right = sum(n for (label, guess), n in confusion.items() if label is guess)
    print(f"\ntask guess accuracy: {right}/{total} = {right / total:.1%} ({unlabeled} unlabeled)")
    for source, category in TASK_LABELS:
        ok, n = per_label[(source, category, True)], per_label[(source, category, False)]
        print(f"  {source}/{category} -> {TASK_LABELS[(source, category)]}: {ok}/{ok + n}")
    kinds = list(TaskKind)
    print("confusion (rows: label, columns: guess)")
    print("  " + " ".join(f"{kind[:9]:>9}" for kind in ["", *kinds]))
    for label in kinds:
        counts = " ".join(f"{confusion[(label, guess)]:>9}" for guess in kinds)
        print(f"  {label[:9]:>9} {counts}")


class Encoding(Protocol):
    def encode_ordinary(self, text: str) -> list[int]: ...


def real_tokenizers() -> dict[str, Encoding]:
    """cl100k/o200k from a package that ships its vocabulary (tiktoken downloads it at run time)."""
    names = ("cl100k_base", "o200k_base")
    for module_name in ("bpe_openai", "tiktoken"):
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        try:
            encodings = {name: module.get_encoding(name) for name in names}
        except Exception as exc:  # offline tiktoken fails here
            print(f"\ntoken estimate: {module_name} unusable ({type(exc).__name__}: {exc})")
            continue
        print(f"\ntoken estimate vs {module_name} {module.__version__} (MAPE per prompt)")
        return encodings
    return {}


def report_token_error(prompts: list[str]) -> None:
    encodings = real_tokenizers()
    if not encodings:
        print("\ntoken estimate: skipped (install bpe-openai for offline cl100k/o200k)")
        return
    ours = [estimate_tokens(p) for p in prompts]
    naive = [len(p) / 4 for p in prompts]
    ascii_rows = [i for i, p in enumerate(prompts) if p.isascii()]
    for name, encoding in encodings.items():
        real = [max(1, len(encoding.encode_ordinary(p))) for p in prompts]
        ascii_error = _mape([ours[i] for i in ascii_rows], [real[i] for i in ascii_rows])
        print(
            f"  {name}: estimate {_mape(ours, real):.1%} (ASCII-only prompts {ascii_error:.1%}),"
            f" chars/4 {_mape(naive, real):.1%}; sum estimate / sum real"
            f" = {sum(ours) / sum(real):.3f} over {len(prompts)} prompts"
        )


def _mape(estimates: Sequence[float], real: Sequence[int]) -> float:
    return sum(abs(e - r) / r for e, r in zip(estimates, real, strict=True)) / len(real)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", type=int, default=200, help="resamples for APGR CIs")
    parser.add_argument("--check", action="store_true", help="exit 1 unless APGR beats keywords")
    args = parser.parse_args()
    shared = shared_dir()
    if not (shared / "data" / "routing").is_dir():
        print(f"no evaluation data under {shared}; set TIERGATE_SHARED_DIR", file=sys.stderr)
        return 2
    results = run_router_eval(shared, args.bootstrap)
    beats = print_router_table(results) if results else True
    rows = load_jsonl(shared / "data" / "routing" / "labeled_prompts.jsonl")
    report_task_accuracy(rows)
    report_token_error([str(r["prompt"]) for r in rows])
    if args.check and not beats:
        print("\nFAIL: the complexity scorer does not beat the keyword baseline on every set")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

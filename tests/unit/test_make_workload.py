"""The sample workload generator: proportions, reproducibility, and the shipped sample."""

from __future__ import annotations

import importlib
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from app.replay.workload import load_workload

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "workloads" / "sample.jsonl"


@pytest.fixture(scope="module")
def make_workload() -> ModuleType:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        return importlib.import_module("make_workload")
    finally:
        sys.path.remove(str(ROOT / "scripts"))


@pytest.mark.parametrize("seed", [7, 11, 2024])
def test_repeats_and_the_difficulty_mix_have_the_seeds_shape(
    make_workload: ModuleType, seed: int
) -> None:
    lines = make_workload.generate(1000, seed)
    kinds = Counter(line.kind for line in lines)
    levels = Counter(line.task.level for line in lines)
    assert 0.35 <= (kinds["repeat"] + kinds["paraphrase"]) / 1000 <= 0.45
    assert kinds["paraphrase"] >= 80
    assert levels["simple"] / 1000 == pytest.approx(0.70, abs=0.04)
    assert levels["medium"] / 1000 == pytest.approx(0.25, abs=0.04)
    assert levels["hard"] / 1000 == pytest.approx(0.05, abs=0.02)
    deterministic = sum(line.record["temperature"] == 0 for line in lines)
    assert deterministic >= 850
    assert len({line.record["tenant"] for line in lines}) >= 4
    new = [line.prompt for line in lines if line.kind == "new"]
    assert len(set(new)) == len(new)  # a new request was never asked before


def test_repeats_repeat_and_paraphrases_keep_the_rest_of_the_request(
    make_workload: ModuleType,
) -> None:
    lines = make_workload.generate(300, 3)
    originals = {line.prompt: line for line in lines if line.kind == "new"}
    for line in lines:
        if line.kind == "repeat":
            assert line.prompt in originals
        if line.kind == "paraphrase":
            assert line.prompt not in originals
            same = {k: v for k, v in line.record.items() if k not in ("messages", "delay_ms")}
            assert any(
                {k: v for k, v in o.record.items() if k not in ("messages", "delay_ms")} == same
                for o in originals.values()
            )


def test_the_shipped_sample_is_what_seed_7_generates(
    make_workload: ModuleType, tmp_path: Path
) -> None:
    out = tmp_path / "sample.jsonl"
    assert make_workload.main(["--seed", "7", "--requests", "1000", "--out", str(out)]) == 0
    assert out.read_bytes() == SAMPLE.read_bytes()
    requests = load_workload(SAMPLE)
    assert len(requests) == 1000
    assert all(r.tenant and r.feature for r in requests)
    assert sum(r.stream for r in requests) > 50

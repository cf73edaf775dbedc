"""`tiergate serve --workers`: a number is obeyed; auto is one per usable CPU only when the
workers share governance in Redis; the usable CPUs honour a cgroup CPU quota."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from app.worker_count import parse_worker_option, worker_count
from infra.cpus import cgroup_cpu_quota, usable_cpus


def test_the_option_is_auto_or_a_positive_integer() -> None:
    assert parse_worker_option("auto") == "auto"
    assert parse_worker_option("3") == 3
    for bad in ("0", "-1", "two", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_worker_option(bad)


def test_a_number_is_obeyed_whatever_the_stores() -> None:
    assert worker_count(3, governance_shared=False, cpus=lambda: 8) == 3


def test_auto_is_one_worker_while_budgets_and_limits_live_in_process_memory() -> None:
    assert worker_count("auto", governance_shared=False, cpus=lambda: 8) == 1


def test_auto_is_one_worker_per_usable_cpu_with_governance_in_redis() -> None:
    assert worker_count("auto", governance_shared=True, cpus=lambda: 8) == 8


@pytest.mark.parametrize(
    ("cpu_max", "quota"),
    [
        ("max 100000\n", None),
        ("100000 100000\n", 1),
        ("150000 100000\n", 2),  # 1.5 CPUs: a second worker still gets half a CPU
        ("50000 100000\n", 1),
        ("garbage\n", None),
    ],
)
def test_the_cgroup_quota_is_read_in_whole_cpus(
    tmp_path: Path, cpu_max: str, quota: int | None
) -> None:
    path = tmp_path / "cpu.max"
    path.write_text(cpu_max)
    assert cgroup_cpu_quota(path) == quota


def test_usable_cpus_is_the_affinity_capped_by_the_quota(tmp_path: Path) -> None:
    affinity = len(os.sched_getaffinity(0))
    assert usable_cpus(tmp_path / "missing") == affinity
    one_cpu = tmp_path / "cpu.max"
    one_cpu.write_text("100000 100000\n")
    assert usable_cpus(one_cpu) == 1
    many = tmp_path / "many.max"
    many.write_text(f"{(affinity + 4) * 100000} 100000\n")
    assert usable_cpus(many) == affinity

"""How many worker processes `tiergate serve` starts: a number, or `auto`.

Each worker is one event loop on one CPU. With governance in Redis the workers share budgets,
rate limits and spend, so `auto` starts one per usable CPU (infra.cpus). With in-memory stores
each worker would enforce its own copy of every budget and limit, so `auto` starts one; an
explicit number is always obeyed (docs/operations.md).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from typing import Literal

from infra.cpus import usable_cpus

logger = logging.getLogger(__name__)

AUTO: Literal["auto"] = "auto"
WorkerOption = int | Literal["auto"]


def parse_worker_option(text: str) -> WorkerOption:
    """argparse type for --workers: `auto` or a positive integer."""
    if text == AUTO:
        return AUTO
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or auto, got {text!r}")
    return count


def worker_count(
    option: WorkerOption, *, governance_shared: bool, cpus: Callable[[], int] = usable_cpus
) -> int:
    """`option` itself, or for `auto`: 1 unless governance is shared (in Redis), then `cpus()`."""
    if option != AUTO:
        return option
    if not governance_shared:
        logger.info("workers: 1 (auto; governance stores are in memory, so one process)")
        return 1
    count = cpus()
    logger.info("workers: %d (auto; one per usable CPU, governance shared in Redis)", count)
    return count

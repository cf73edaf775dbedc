"""How many CPUs this process may use: its CPU affinity, capped by a cgroup v2 CPU quota.

`os.cpu_count()` counts the machine's CPUs. A container limited to one CPU on a 32-core node
still sees 32 there (a Kubernetes CPU limit is a CFS quota, not an affinity mask), and sizing
workers by it would run 32 processes on one CPU's worth of time.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def usable_cpus(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """CPUs in this process's affinity mask, at most the quota rounded up; at least 1."""
    cpus = len(os.sched_getaffinity(0))
    quota = cgroup_cpu_quota(cpu_max)
    return max(1, cpus if quota is None else min(cpus, quota))


def cgroup_cpu_quota(cpu_max: Path = CGROUP_CPU_MAX) -> int | None:
    """The CPUs a cgroup v2 `cpu.max` ("QUOTA PERIOD", or "max PERIOD" for none) allows, rounded
    up; None without a quota or a readable file (cgroup v1, not Linux)."""
    try:
        quota, period = cpu_max.read_text(encoding="ascii").split()
        if quota == "max":
            return None
        return math.ceil(int(quota) / int(period))
    except (OSError, ValueError, ZeroDivisionError):
        return None

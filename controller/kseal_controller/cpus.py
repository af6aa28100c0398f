"""How many CPUs this process may use: the container's CPU limit, not the host's core count.

The controller sizes its unseal workers with :func:`limit`. A container limited to 2 CPUs on a
64-core node must run 2 workers, not 64: more would only queue on the CFS quota and stretch
every reconcile. The answer is the smallest of

* the cgroup CPU quota, rounded up: cgroup v2 ``cpu.max`` (``"<quota> <period>"``, or
  ``"max <period>"`` for no quota), else cgroup v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``
  (quota ``-1`` for none);
* the CPUs the process may be scheduled on (``os.sched_getaffinity``), else ``os.cpu_count()``;

and never less than 1. The parsers are pure; :func:`limit` takes the file paths and the CPU
counters as parameters so the tests need neither a cgroup nor a particular machine.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path

CGROUP_V2_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")


def quota_cpus(quota: int, period: int) -> int | None:
    """CPUs allowed by a CFS quota of ``quota`` µs per ``period`` µs, rounded up; None: no limit."""
    if quota <= 0 or period <= 0:
        return None
    return max(1, math.ceil(quota / period))


def parse_cpu_max(text: str) -> int | None:
    """cgroup v2 ``cpu.max`` (``"150000 100000"``, ``"max 100000"``) -> CPUs, or None for none."""
    fields = text.split()
    if not fields or fields[0] == "max":
        return None
    try:
        quota = int(fields[0])
        period = int(fields[1]) if len(fields) > 1 else 100_000
    except ValueError:
        return None
    return quota_cpus(quota, period)


def parse_cfs(quota_text: str, period_text: str) -> int | None:
    """cgroup v1 ``cpu.cfs_quota_us`` and ``cpu.cfs_period_us`` -> CPUs, or None (quota -1)."""
    try:
        return quota_cpus(int(quota_text.strip()), int(period_text.strip()))
    except ValueError:
        return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None


def cgroup_cpus(cpu_max: Path, cfs_quota: Path, cfs_period: Path) -> int | None:
    """The cgroup quota in CPUs: v2 when its file exists (then v1 is not consulted), else v1."""
    v2 = _read(cpu_max)
    if v2 is not None:
        return parse_cpu_max(v2)
    quota, period = _read(cfs_quota), _read(cfs_period)
    if quota is None or period is None:
        return None
    return parse_cfs(quota, period)


def _affinity() -> int | None:
    getaffinity = getattr(os, "sched_getaffinity", None)
    if getaffinity is None:
        return None
    try:
        return len(getaffinity(0))
    except OSError:
        return None


def schedulable_cpus(
    affinity: Callable[[], int | None] = _affinity,
    cpu_count: Callable[[], int | None] = os.cpu_count,
) -> int:
    """CPUs the process may run on: its affinity mask, else the machine's count, at least 1."""
    return max(1, affinity() or cpu_count() or 1)


def limit(
    *,
    cpu_max: Path = CGROUP_V2_CPU_MAX,
    cfs_quota: Path = CGROUP_V1_QUOTA,
    cfs_period: Path = CGROUP_V1_PERIOD,
    affinity: Callable[[], int | None] = _affinity,
    cpu_count: Callable[[], int | None] = os.cpu_count,
) -> int:
    """The CPUs this process may use: min(cgroup quota rounded up, schedulable CPUs), >= 1."""
    available = schedulable_cpus(affinity, cpu_count)
    quota = cgroup_cpus(cpu_max, cfs_quota, cfs_period)
    return available if quota is None else max(1, min(quota, available))

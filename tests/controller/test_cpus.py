"""cpus.limit(): the container's CPU limit from cgroup v2/v1, then affinity, then cpu_count."""

from __future__ import annotations

from pathlib import Path

import pytest

from kseal_controller import cpus


def _limit(
    tmp_path: Path,
    *,
    v2: str | None = None,
    v1: tuple[str, str] | None = None,
    affinity: int | None = 8,
    cpu_count: int | None = 16,
) -> int:
    cpu_max = tmp_path / "cpu.max"
    quota = tmp_path / "cpu.cfs_quota_us"
    period = tmp_path / "cpu.cfs_period_us"
    if v2 is not None:
        cpu_max.write_text(v2)
    if v1 is not None:
        quota.write_text(v1[0])
        period.write_text(v1[1])
    return cpus.limit(
        cpu_max=cpu_max,
        cfs_quota=quota,
        cfs_period=period,
        affinity=lambda: affinity,
        cpu_count=lambda: cpu_count,
    )


def test_v2_max_means_no_quota_so_the_affinity_counts(tmp_path: Path) -> None:
    assert _limit(tmp_path, v2="max 100000\n", affinity=6) == 6


def test_v2_quota_is_rounded_up_to_whole_cpus(tmp_path: Path) -> None:
    assert _limit(tmp_path, v2="150000 100000\n") == 2
    assert _limit(tmp_path, v2="200000 100000\n") == 2
    assert _limit(tmp_path, v2="50000 100000\n") == 1


def test_v2_quota_never_exceeds_the_schedulable_cpus(tmp_path: Path) -> None:
    assert _limit(tmp_path, v2="1600000 100000\n", affinity=2) == 2


def test_v2_file_wins_over_v1_files(tmp_path: Path) -> None:
    assert _limit(tmp_path, v2="max 100000\n", v1=("100000", "100000"), affinity=4) == 4


def test_v1_cfs_quota_and_period(tmp_path: Path) -> None:
    assert _limit(tmp_path, v1=("250000\n", "100000\n")) == 3


def test_v1_quota_minus_one_means_no_quota(tmp_path: Path) -> None:
    assert _limit(tmp_path, v1=("-1\n", "100000\n"), affinity=5) == 5


def test_no_cgroup_files_fall_back_to_affinity(tmp_path: Path) -> None:
    assert _limit(tmp_path, affinity=3, cpu_count=16) == 3


def test_no_affinity_falls_back_to_cpu_count(tmp_path: Path) -> None:
    assert _limit(tmp_path, affinity=None, cpu_count=7) == 7


def test_nothing_known_still_gives_one_cpu(tmp_path: Path) -> None:
    assert _limit(tmp_path, affinity=None, cpu_count=None) == 1


@pytest.mark.parametrize("text", ["", "garbage", "100000 0", "0 100000", "12x 100000"])
def test_unreadable_cpu_max_means_no_quota(text: str) -> None:
    assert cpus.parse_cpu_max(text) is None


def test_cpu_max_without_period_uses_the_kernel_default_period() -> None:
    assert cpus.parse_cpu_max("300000") == 3


def test_unparsable_v1_files_mean_no_quota() -> None:
    assert cpus.parse_cfs("lots", "100000") is None


def test_limit_on_this_machine_is_at_least_one_and_at_most_its_cpus() -> None:
    import os

    assert 1 <= cpus.limit() <= (os.cpu_count() or 1)

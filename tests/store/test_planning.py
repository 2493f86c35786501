"""Which files are merged, and which days of which datasets expire."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from watchkeeper.errors import UsageError
from watchkeeper.store.layout import PartFile, effective
from watchkeeper.store.planning import RetentionPolicy, plan_compaction

OPEN = date(2025, 3, 2)
CLOSED = date(2025, 3, 1)


def files(day: date, sizes: list[int], start: int = 0) -> list[PartFile]:
    return [PartFile(Path(f"{day}-{start + i}"), day, start + i, start + i, 0, size, 0)
            for i, size in enumerate(sizes)]


def ranges(groups: list[list[PartFile]]) -> list[tuple[int, int]]:
    return [(group[0].first, group[-1].last) for group in groups]


def test_the_open_day_merges_runs_of_similar_files_once_there_are_enough() -> None:
    assert plan_compaction(files(OPEN, [10] * 3), fanout=4, target_bytes=1000) == []
    assert ranges(plan_compaction(files(OPEN, [10] * 4), fanout=4, target_bytes=1000)) == [
        (0, 3)]
    tiers = files(OPEN, [160, 40, 40, 40, 12, 10, 9, 11])
    assert ranges(plan_compaction(tiers, fanout=4, target_bytes=1000)) == [(4, 7)]
    tiers = files(OPEN, [40, 40, 40, 40, 12, 10, 9])
    assert ranges(plan_compaction(tiers, fanout=4, target_bytes=1000)) == [(0, 3)]


def test_jitter_in_batch_sizes_does_not_stop_merging() -> None:
    jittery = files(OPEN, [9, 14, 7, 12, 10, 16, 8])
    assert ranges(plan_compaction(jittery, fanout=4, target_bytes=1000)) == [(0, 6)]


def test_merges_never_reach_past_a_full_file_or_the_target_size() -> None:
    around_big = files(OPEN, [10, 10, 10, 1000, 10, 10, 10])
    assert plan_compaction(around_big, fanout=3, target_bytes=1000) == [
        around_big[4:], around_big[:3]]
    capped = files(OPEN, [300] * 8)
    assert ranges(plan_compaction(capped, fanout=3, target_bytes=1000)) == [(5, 7), (2, 4)]


def test_closed_days_merge_every_small_neighbour_up_to_the_target() -> None:
    old = files(CLOSED, [600, 300, 200, 2000, 50, 5000, 10, 20], start=0)
    new = files(OPEN, [1], start=100)
    plan = plan_compaction(old + new, fanout=16, target_bytes=1000)
    assert ranges(plan) == [(0, 1), (6, 7)]


def test_equal_ranges_keep_the_newest_version_only() -> None:
    day = files(OPEN, [1, 1])
    rewritten = PartFile(Path("v1"), OPEN, 0, 0, 1, 1, 0)
    kept, covered = effective([rewritten, *day])
    assert kept == [rewritten, day[1]]
    assert covered == [day[0]]


def test_ranges_are_compared_within_a_day_only() -> None:
    merged = PartFile(Path("m"), CLOSED, 0, 9, 0, 1, 0)
    late = PartFile(Path("late"), OPEN, 4, 4, 0, 1, 0)
    assert effective([merged, late]) == ([merged, late], [])


NOW = datetime(2025, 4, 1, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "expired"),
    [
        (date(2025, 3, 1), {"a", "b"}),
        (date(2025, 3, 2), {"a"}),
        (date(2025, 3, 31), set()),
    ],
)
def test_a_day_expires_once_its_whole_days_have_passed(day: date, expired: set[str]) -> None:
    policy = RetentionPolicy(NOW, 30, {"a": 29})
    assert policy.expired(day, {"a", "b"}) == expired
    assert policy.may_expire(day) == bool(expired)


def test_now_in_another_zone_counts_in_utc() -> None:
    west = NOW.astimezone(timezone(timedelta(hours=-5)))
    assert west.date() == date(2025, 3, 31)
    assert RetentionPolicy(west, 0, {}).today == date(2025, 4, 1)


@pytest.mark.parametrize("days", [-1, 1.5, "7", None])
def test_days_must_be_whole_and_not_negative(days: object) -> None:
    with pytest.raises(UsageError, match="whole number of days"):
        RetentionPolicy(NOW, 30, {"syslog": days})  # type: ignore[dict-item]

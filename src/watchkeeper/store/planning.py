"""Decisions without I/O: which files to merge, and which datasets of a day have expired.

Merging (size-tiered, as log-structured stores do): in the newest day, which is still
being written, a run of neighbouring files of similar size is merged once it has
``fanout`` files, so each event is rewritten about log_fanout(target / batch size) times
rather than once per merge. Older days are closed: their small neighbours are merged into
files of up to ``target_bytes``. Only neighbours in spool order are merged, because a
merged file's range covers everything between its first and last input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import groupby

from watchkeeper.errors import UsageError
from watchkeeper.store.base import RetentionReport
from watchkeeper.store.layout import PartFile

SIMILAR = 2
"""An older file joins a run while it is at most this many times the run's mean size."""


def plan_compaction(
    files: Sequence[PartFile], *, fanout: int, target_bytes: int
) -> list[list[PartFile]]:
    """Groups of files (each in spool order) to merge into one file per group.

    ``files`` are a store's readable files (no file covering another), in any order.
    """
    if not files:
        return []
    newest = max(file.day for file in files)
    groups: list[list[PartFile]] = []
    ordered = sorted(files, key=lambda file: (file.day, file.first))
    for day, same_day in groupby(ordered, key=lambda file: file.day):
        day_files = list(same_day)
        if day == newest:
            groups.extend(_open_day(day_files, fanout, target_bytes))
        else:
            groups.extend(_closed_day(day_files, target_bytes))
    return groups


def _open_day(files: list[PartFile], fanout: int, target: int) -> list[list[PartFile]]:
    groups: list[list[PartFile]] = []
    run: list[PartFile] = []
    total = 0
    for file in reversed(files):
        fits = file.size < target and total + file.size <= target
        similar = not run or file.size <= SIMILAR * total / len(run)
        if fits and similar:
            run.append(file)
            total += file.size
            continue
        if len(run) >= fanout:
            groups.append(run[::-1])
        run, total = ([file], file.size) if file.size < target else ([], 0)
    if len(run) >= fanout:
        groups.append(run[::-1])
    return groups


def _closed_day(files: list[PartFile], target: int) -> list[list[PartFile]]:
    groups: list[list[PartFile]] = []
    run: list[PartFile] = []
    total = 0
    for file in files:
        if file.size < target and total + file.size <= target:
            run.append(file)
            total += file.size
            continue
        if len(run) >= 2:
            groups.append(run)
        run, total = ([file], file.size) if file.size < target else ([], 0)
    if len(run) >= 2:
        groups.append(run)
    return groups


class RetentionPolicy:
    """Time to live per dataset, in whole days after the day of ingestion has ended.

    A day ``D`` of dataset ``ds`` expires when ``D < today - ttl(ds)``: with 30 days, the
    events ingested on 1 March go on the 1st of April's first retention pass (UTC days).
    """

    def __init__(self, now: datetime, default_days: int, per_dataset: Mapping[str, int]) -> None:
        if now.tzinfo is None or now.utcoffset() is None:
            raise UsageError("retention needs an aware time for 'now' (UTC or with an offset)")
        for name, days in {"default": default_days, **per_dataset}.items():
            if isinstance(days, bool) or not isinstance(days, int) or days < 0:
                raise UsageError(f"retention of {name!r} must be a whole number of days >= 0, "
                                 f"not {days!r}")
        self.today = now.astimezone(UTC).date()
        self.default_days = default_days
        self.per_dataset = dict(per_dataset)
        self._shortest = min([default_days, *self.per_dataset.values()])

    def days_for(self, dataset: str) -> int:
        return self.per_dataset.get(dataset, self.default_days)

    def may_expire(self, day: date) -> bool:
        """Whether any dataset at all could have expired on ``day`` (cheap pre-check)."""
        return day < self.today - timedelta(days=self._shortest)

    def expired(self, day: date, datasets: Iterable[str]) -> set[str]:
        """Those of ``datasets`` whose events ingested on ``day`` are to be removed."""
        return {ds for ds in datasets if day < self.today - timedelta(days=self.days_for(ds))}


class RetentionTally:
    """Adds up what a retention pass removes, for its report."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        self.files_removed = 0
        self.files_rewritten = 0
        self.days: list[date] = []

    def rows_removed(self, counts: Mapping[str, int]) -> None:
        for dataset, rows in counts.items():
            if rows:
                self.rows[dataset] = self.rows.get(dataset, 0) + rows

    def report(self) -> RetentionReport:
        return RetentionReport(dict(sorted(self.rows.items())), self.files_removed,
                               self.files_rewritten, tuple(sorted(self.days)))

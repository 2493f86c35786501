"""An event store in memory, for tests and trials: same contract, same SQL, no files.

Batches are kept as Polars frames with their ingestion day and spool range; queries run
in DuckDB over their concatenation, so SQL that works here works on the Parquet store.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby

import polars as pl

from watchkeeper.errors import ConflictError, UsageError
from watchkeeper.events.model import DATASET
from watchkeeper.store.base import RELATION, RetentionReport
from watchkeeper.store.columns import STORE_COLUMNS, batch_day, duckdb_type, fold, prepare
from watchkeeper.store.engine import GET_SQL, Database, run_select
from watchkeeper.store.layout import check_range
from watchkeeper.store.planning import RetentionPolicy, RetentionTally


@dataclass(frozen=True, slots=True)
class _Batch:
    day: date
    first: int
    last: int
    frame: pl.DataFrame


def _united(batches: Sequence[_Batch]) -> pl.DataFrame:
    """Batches as one frame in the Parquet store's reading order (newest first), names that
    differ only by case made one, as DuckDB does."""
    spelling: dict[str, str] = {}
    frames = []
    for batch in sorted(batches, key=lambda b: (b.day, b.first), reverse=True):
        renames = {}
        for name in batch.frame.columns:
            spelled = spelling.setdefault(fold(name), name)
            if spelled != name:
                renames[name] = spelled
        frames.append(batch.frame.rename(renames))
    if not frames:
        return pl.DataFrame(schema=STORE_COLUMNS)
    return pl.concat(frames, how="diagonal")


class MemoryEventStore:
    """Keeps every batch in memory; ``compact`` merges each day's batches into one."""

    def __init__(self, *, memory_limit: str = "256MB", threads: int = 1) -> None:
        self._db = Database(memory_limit=memory_limit, threads=threads)
        self._lock = threading.Lock()
        self._batches: list[_Batch] = []
        self._committed = -1
        self._events: pl.DataFrame | None = None
        self._closed = False

    def write(self, batch: pl.DataFrame, first_seq: int, last_seq: int) -> None:
        check_range(first_seq, last_seq)
        with self._lock:
            self._check_open()
            if last_seq <= self._committed:
                return
            if first_seq <= self._committed:
                raise ConflictError(
                    f"spool range {first_seq}..{last_seq} starts inside the stored range "
                    f"(up to {self._committed}); replay from {self._committed + 1}")
            frame = prepare(batch)
            if frame.height:
                self._batches.append(_Batch(batch_day(frame), first_seq, last_seq, frame))
                self._events = None
            self._committed = last_seq

    def committed_seq(self) -> int:
        with self._lock:
            self._check_open()
            return self._committed

    def _frame(self) -> pl.DataFrame:
        with self._lock:
            self._check_open()
            if self._events is None:
                self._events = _united(self._batches)
            return self._events

    def columns(self) -> dict[str, str]:
        return {name: duckdb_type(name) for name in self._frame().columns}

    def query(self, sql: str, params: Sequence[object]) -> pl.DataFrame:
        frame = self._frame()
        cursor = self._db.cursor()
        try:
            cursor.register(RELATION, frame)
            return run_select(cursor, sql, params)
        finally:
            cursor.close()

    def get(self, event_ids: Sequence[str]) -> pl.DataFrame:
        return self.query(GET_SQL, [list(event_ids)])

    def count(self) -> int:
        return self._frame().height

    def compact(self) -> int:
        with self._lock:
            self._check_open()
            merged = 0
            kept: list[_Batch] = []
            ordered = sorted(self._batches, key=lambda b: (b.day, b.first))
            for day, same_day in groupby(ordered, key=lambda b: b.day):
                group = list(same_day)
                if len(group) > 1:
                    merged += len(group)
                    first, last = group[0].first, max(b.last for b in group)
                    group = [_Batch(day, first, last, _united(group))]
                kept.extend(group)
            self._batches = kept
            self._events = None
            return merged

    def enforce_retention(
        self, now: datetime, default_days: int, per_dataset: Mapping[str, int]
    ) -> RetentionReport:
        policy = RetentionPolicy(now, default_days, per_dataset)
        tally = RetentionTally()
        with self._lock:
            self._check_open()
            kept: list[_Batch] = []
            day_datasets: dict[date, set[str]] = {}
            for batch in self._batches:
                day_datasets.setdefault(batch.day, set()).update(batch.frame[DATASET].unique())
            for batch in self._batches:
                expired = policy.expired(batch.day, day_datasets[batch.day])
                if expired == day_datasets[batch.day] and batch.day not in tally.days:
                    tally.days.append(batch.day)
                gone = batch.frame.filter(pl.col(DATASET).is_in(sorted(expired)))
                if gone.height == 0:
                    kept.append(batch)
                    continue
                tally.rows_removed(dict(gone[DATASET].value_counts().iter_rows()))
                if gone.height == batch.frame.height:
                    tally.files_removed += 1
                else:
                    tally.files_rewritten += 1
                    rest = batch.frame.filter(~pl.col(DATASET).is_in(sorted(expired)))
                    kept.append(_Batch(batch.day, batch.first, batch.last, rest))
            self._batches = kept
            self._events = None
        return tally.report()

    def _check_open(self) -> None:
        if self._closed:
            raise UsageError("the event store is closed")

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._batches = []
                self._events = None
                self._db.close()

    def __enter__(self) -> MemoryEventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

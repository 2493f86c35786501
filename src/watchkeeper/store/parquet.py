"""The embedded event store: Parquet files written by one process, read by DuckDB in any.

One writer (the server) holds a lock file in the store folder; any number of readers
(``watchkeeper search`` in another process, the API's threads) open the same folder with
``read_only=True`` and see every committed batch, never a half-written one. The layout,
the commit by rename and the exactly-once reasoning are in ``layout`` and docs/storage.md.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from itertools import groupby
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl

from watchkeeper.errors import ConflictError, UsageError, WatchkeeperError
from watchkeeper.store import maintenance
from watchkeeper.store.base import RetentionReport
from watchkeeper.store.catalog import Catalog
from watchkeeper.store.columns import batch_day, prepare
from watchkeeper.store.engine import COUNT_SQL, GET_SQL, Database, create_view, run_select
from watchkeeper.store.layout import (
    LOCK,
    SPILL,
    PartFile,
    check_range,
    clean_leftovers,
    day_dir,
    make_dir,
    part_name,
    read_checkpoint,
    remove_day,
    scan,
    write_atomic,
    write_checkpoint,
)
from watchkeeper.store.planning import RetentionPolicy, RetentionTally, plan_compaction

T = TypeVar("T")
MiB = 1024 * 1024


class ParquetEventStore:
    """Events as Parquet files under ``root``, queried with DuckDB.

    ``memory_limit`` and ``threads`` bound DuckDB (queries spill to disk beyond the limit);
    ``compact_min_files`` similar files are merged at once, up to ``compact_target_bytes``
    per file; a query whose files vanish under it (merged, expired) is retried
    ``read_retries`` times on a fresh listing.
    """

    def __init__(
        self,
        root: Path | str,
        *,
        memory_limit: str = "1GB",
        threads: int = 2,
        compact_min_files: int = 16,
        compact_target_bytes: int = 256 * MiB,
        read_only: bool = False,
        read_retries: int = 5,
    ) -> None:
        if compact_min_files < 2 or compact_target_bytes < 1 or read_retries < 1:
            raise UsageError("compact_min_files must be >= 2, compact_target_bytes and "
                             "read_retries >= 1")
        self.root = Path(root).absolute()
        self.read_only = read_only
        self._fanout = compact_min_files
        self._target = compact_target_bytes
        self._retries = read_retries
        self._write_lock = threading.Lock()
        self._lock_fd: int | None = None
        self._closed = False
        if read_only:
            self._spill = Path(tempfile.gettempdir()) / f"watchkeeper-spill-{uuid.uuid4().hex}"
        else:
            self._spill = self.root / SPILL
        self._catalog = Catalog(self.root)
        self._db = Database(memory_limit=memory_limit, threads=threads, allowed=[self.root],
                            spill_dir=self._spill)
        try:
            if not read_only:
                self._take_lock()
                clean_leftovers(self.root)
            self._checkpoint = read_checkpoint(self.root)
            self._committed = self._stored_seq()
            if not read_only:
                maintenance.remove(self._catalog.snapshot().covered)
        except BaseException:
            self.close()
            raise

    # writing -----------------------------------------------------------------------------

    def write(self, batch: pl.DataFrame, first_seq: int, last_seq: int) -> None:
        check_range(first_seq, last_seq)
        with self._write_lock:
            self._check_writer()
            if last_seq <= self._committed:
                return
            if first_seq <= self._committed:
                raise ConflictError(
                    f"spool range {first_seq}..{last_seq} starts inside the stored range "
                    f"(up to {self._committed}); replay from {self._committed + 1}",
                    location=str(self.root))
            frame = prepare(batch)
            with self._failing("cannot store the batch"):
                if frame.height:
                    day = batch_day(frame)
                    target = day_dir(self.root, day) / part_name(first_seq, last_seq)
                    write_atomic(target, lambda temp: frame.write_parquet(temp,
                                                                          compression="zstd"))
                else:
                    self._save_checkpoint(last_seq)
            self._committed = last_seq

    def committed_seq(self) -> int:
        self._check_open()
        if self.read_only:
            return max(read_checkpoint(self.root), self._stored_seq())
        return self._committed

    def compact(self) -> int:
        with self._write_lock:
            self._check_writer()
            snapshot = self._catalog.snapshot()
            maintenance.remove(snapshot.covered)
            groups = plan_compaction(snapshot.files, fanout=self._fanout,
                                     target_bytes=self._target)
            cursor = self._db.cursor()
            try:
                for group in groups:
                    with self._failing(f"cannot merge {len(group)} files of {group[0].day}"):
                        maintenance.merge(cursor, self.root, group)
            finally:
                cursor.close()
            return sum(len(group) for group in groups)

    def enforce_retention(
        self, now: datetime, default_days: int, per_dataset: Mapping[str, int]
    ) -> RetentionReport:
        policy = RetentionPolicy(now, default_days, per_dataset)
        tally = RetentionTally()
        with self._write_lock:
            self._check_writer()
            snapshot = self._catalog.snapshot()
            maintenance.remove(snapshot.covered)
            cursor = self._db.cursor()
            try:
                by_day = sorted(snapshot.files, key=lambda file: (file.day, file.first))
                for day, same_day in groupby(by_day, key=lambda file: file.day):
                    if policy.may_expire(day):
                        with self._failing(f"cannot expire the events of {day}"):
                            self._expire_day(cursor, policy, list(same_day), tally)
            finally:
                cursor.close()
        return tally.report()

    def _expire_day(
        self,
        cursor: duckdb.DuckDBPyConnection,
        policy: RetentionPolicy,
        files: list[PartFile],
        tally: RetentionTally,
    ) -> None:
        counts = {file.path: maintenance.dataset_counts(cursor, file) for file in files}
        datasets = {name for per_file in counts.values() for name in per_file}
        expired = policy.expired(files[0].day, datasets)
        if not expired:
            return
        self._save_checkpoint(self._committed)
        if expired == datasets:
            remove_day(self.root, files[0].day)
            tally.days.append(files[0].day)
            tally.files_removed += len(files)
            for per_file in counts.values():
                tally.rows_removed(per_file)
            return
        for file in files:
            gone = {name: rows for name, rows in counts[file.path].items() if name in expired}
            if not gone:
                continue
            if len(gone) == len(counts[file.path]):
                maintenance.remove([file])
                tally.files_removed += 1
            else:
                maintenance.rewrite_without(cursor, self.root, file, gone)
                tally.files_rewritten += 1
            tally.rows_removed(gone)

    def _save_checkpoint(self, seq: int) -> None:
        """Record ``seq`` apart from file names, before anything that could remove the file
        that carries the highest number."""
        if seq > self._checkpoint:
            write_checkpoint(self.root, seq)
            self._checkpoint = seq

    @contextmanager
    def _failing(self, what: str) -> Iterator[None]:
        """Disk and engine failures of the writer as Watchkeeper errors (disk full…)."""
        try:
            yield
        except (OSError, duckdb.Error, pl.exceptions.PolarsError) as err:
            raise WatchkeeperError(f"{what}: {err}", location=str(self.root)) from err

    def _stored_seq(self) -> int:
        return max([self._checkpoint, *(file.last for file in scan(self.root))])

    # reading -----------------------------------------------------------------------------

    def columns(self) -> dict[str, str]:
        return self._reading(lambda files: self._catalog.columns(files))

    def query(self, sql: str, params: Sequence[object]) -> pl.DataFrame:
        return self._reading(lambda files: self._select(files, sql, params))

    def get(self, event_ids: Sequence[str]) -> pl.DataFrame:
        return self.query(GET_SQL, [list(event_ids)])

    def count(self) -> int:
        frame = self.query(COUNT_SQL, [])
        return int(frame.item())

    def _select(self, files: list[PartFile], sql: str, params: Sequence[object]) -> pl.DataFrame:
        self._catalog.columns(files)
        cursor = self._db.cursor()
        try:
            create_view(cursor, [file.path for file in files])
            return run_select(cursor, sql, params)
        finally:
            cursor.close()

    def _reading(self, work: Callable[[list[PartFile]], T]) -> T:
        """Run ``work`` over the current files, again over a new listing when one of them
        was deleted meanwhile (merged or expired by the writer)."""
        self._check_open()
        error: Exception | None = None
        for _ in range(self._retries):
            files = self._catalog.snapshot().files
            try:
                return work(files)
            except (FileNotFoundError, duckdb.IOException) as err:
                if all(file.path.exists() for file in files):
                    raise WatchkeeperError(f"cannot read the event files: {err}",
                                           location=str(self.root)) from err
                error = err
        raise WatchkeeperError(
            f"the event files kept changing during {self._retries} tries to read them: {error}",
            location=str(self.root))

    # lifecycle ---------------------------------------------------------------------------

    def _take_lock(self) -> None:
        make_dir(self.root)
        fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            os.close(fd)
            raise ConflictError("another process writes to this event store; open it with "
                                "read_only=True to search it", location=str(self.root)) from err
        self._lock_fd = fd

    def _check_open(self) -> None:
        if self._closed:
            raise UsageError("the event store is closed", location=str(self.root))

    def _check_writer(self) -> None:
        self._check_open()
        if self.read_only:
            raise UsageError("this event store was opened read-only", location=str(self.root))

    def close(self) -> None:
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            self._db.close()
            if self.read_only:
                shutil.rmtree(self._spill, ignore_errors=True)
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def __enter__(self) -> ParquetEventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

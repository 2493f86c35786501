"""The write-ahead spool: raw input made durable before any receiver acknowledges it.

Receivers :meth:`Spool.append` chunks of raw input; the call returns the chunk's seq
only once the record is fsynced. One writer thread writes and fsyncs whatever has
queued up since its last fsync (group commit), so many small appends cost a few
fsyncs a second, not one each. The pipeline reads chunks in seq order and calls
:meth:`Spool.release` once their events are stored; whole segments below that point
are deleted. Past ``max_backlog_bytes`` of unreleased input, appends are refused with
:class:`OverloadedError`: receivers push back instead of the process growing.

The format and the recovery pass run at open are in :mod:`watchkeeper.ingest.wal`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import logging
import os
import threading
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import TextIO

from watchkeeper.errors import OverloadedError, PayloadTooLarge, UsageError
from watchkeeper.ingest.spoolwriter import (
    LoopWaiter,
    Pending,
    SegmentWriter,
    ThreadWaiter,
    Waiter,
    create_segment,
    write_failed,
)
from watchkeeper.ingest.wal import (
    Chunk,
    Segment,
    encode,
    parse_segment_name,
    read_records,
    scan_segment,
)

logger = logging.getLogger(__name__)

__all__ = ["Chunk", "Spool"]


class Spool:
    """A folder of append-only segment files holding raw input until it is stored.

    Thread-safe. ``fsync=False`` skips the fsyncs (throwaway tests only: an append
    is then durable against a process crash but not against a power cut).
    """

    def __init__(self, folder: Path, *, segment_bytes: int = 64 << 20, fsync: bool = True,
                 max_backlog_bytes: int = 1 << 30, max_chunk_bytes: int = 64 << 20) -> None:
        if segment_bytes < 1 or max_backlog_bytes < 1 or not 0 < max_chunk_bytes <= 1 << 30:
            raise UsageError("spool sizes must be positive, and a chunk at most 1 GiB")
        self.folder = Path(folder)
        self.max_backlog_bytes = max_backlog_bytes
        self.max_chunk_bytes = max_chunk_bytes
        self.corrupt_records = 0
        """Damaged records skipped, at recovery or later when read."""
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._durable = threading.Condition(self._lock)
        self._pending: list[Pending] = []
        self._closing = False
        self._segments: list[Segment] = []
        self._next_seq = 1
        self._durable_seq = 0
        self._cursor: tuple[int, int, int] | None = None  # (after, segment first seq, offset)
        # Backlog accounting: marks (last seq, cumulative bytes), merged to ~1/64 of the bound.
        self._granule = max(1, min(64 << 10, max_backlog_bytes // 64))
        self._marks: deque[tuple[int, int]] = deque()
        self._appended = 0
        self._released = 0
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock_file = self._take_folder()
        try:
            self._recover()
            self._writer = SegmentWriter(self.folder, self._segments[-1], segment_bytes,
                                         fsync=fsync, publish=self._publish,
                                         add_segment=self._add_segment)
        except BaseException:
            self._lock_file.close()
            raise
        self._thread = threading.Thread(target=self._run, name="spool-writer", daemon=True)
        self._thread.start()

    # -- appending ---------------------------------------------------------------------

    def append(self, source_type: str, origin: str, payload: bytes, *,
               force: bool = False) -> int:
        """Write a chunk; return its seq once it is on disk.

        ``force`` ignores the backlog bound: for input already taken off a socket when
        the receivers shut down, which would otherwise be lost."""
        waiter = ThreadWaiter()
        seq = self._enqueue(source_type, origin, payload, waiter, force)
        waiter.wait()
        if waiter.error is not None:
            raise write_failed(waiter.error) from waiter.error
        return seq

    async def append_async(self, source_type: str, origin: str, payload: bytes, *,
                           force: bool = False) -> int:
        """:meth:`append` for coroutines: awaits the fsync without blocking the loop."""
        waiter = LoopWaiter(asyncio.get_running_loop())
        seq = self._enqueue(source_type, origin, payload, waiter, force)
        await waiter.wait()
        return seq

    def _enqueue(self, source_type: str, origin: str, payload: bytes, waiter: Waiter,
                 force: bool) -> int:
        if len(payload) > self.max_chunk_bytes:
            raise PayloadTooLarge(
                f"a chunk of {len(payload)} bytes is over the spool's limit of "
                f"{self.max_chunk_bytes}")
        received = dt.datetime.now(dt.UTC)
        with self._lock:
            if self._closing:
                raise UsageError("the spool is closed")
            if not force and self._backlog() >= self.max_backlog_bytes:
                raise OverloadedError(
                    f"the spool holds {self._backlog()} bytes not yet stored "
                    f"(limit {self.max_backlog_bytes})", retry_after=1)
            seq = self._next_seq
            data = encode(seq, received, source_type, origin, payload)
            self._next_seq += 1
            self._pending.append(Pending(seq, data, waiter))
            self._count_appended(seq, len(data))
            self._wake.notify()
        return seq

    def _count_appended(self, seq: int, size: int) -> None:
        self._appended += size
        if self._marks:
            base = self._marks[-2][1] if len(self._marks) > 1 else self._released
            if self._marks[-1][1] - base < self._granule:
                self._marks[-1] = (seq, self._appended)
                return
        self._marks.append((seq, self._appended))

    # -- the writer thread -------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._closing:
                    self._wake.wait()
                if not self._pending:
                    return
                batch, self._pending = self._pending, []
            self._writer.write(batch)

    def _add_segment(self, segment: Segment) -> None:
        with self._lock:
            self._segments.append(segment)

    def _publish(self, segment: Segment, end: int, last_seq: int) -> None:
        """Called by the writer once bytes up to ``end`` of ``segment`` are durable."""
        with self._lock:
            segment.end = end
            segment.last_seq = last_seq
            self._durable_seq = max(self._durable_seq, last_seq)
            self._durable.notify_all()

    # -- reading -----------------------------------------------------------------------

    def read(self, after: int, max_bytes: int) -> list[Chunk]:
        """Durable chunks with seq > ``after``, in order, up to about ``max_bytes`` of
        payload (at least one when there is one)."""
        with self._lock:
            todo = [(s.path, s.first_seq, s.end, s.holes) for s in self._segments
                    if s.last_seq > after and s.end > 0]
            cursor = self._cursor
        chunks: list[Chunk] = []
        budget = max(1, max_bytes)
        for path, first_seq, end, holes in todo:
            start = 0
            if cursor is not None and cursor[:2] == (after, first_seq):
                start = cursor[2]
            try:
                result = read_records(path, start, end, holes, after, budget)
            except FileNotFoundError:  # released meanwhile: those chunks are no longer wanted
                continue
            if result.damaged:
                logger.warning("%s: %d damaged records skipped", path, result.damaged)
            chunks.extend(result.chunks)
            budget -= sum(len(chunk.payload) + 1 for chunk in result.chunks)
            if chunks:
                after = chunks[-1].seq
            with self._lock:
                self.corrupt_records += result.damaged
                self._cursor = (after, first_seq, result.end)
            if budget <= 0:
                break
        return chunks

    def wait(self, after: int, timeout: float) -> bool:
        """Block until a chunk with seq > ``after`` is durable; False on timeout or close."""
        with self._lock:
            self._durable.wait_for(lambda: self._durable_seq > after or self._closing, timeout)
            return self._durable_seq > after

    def last_seq(self) -> int:
        """The highest durable seq (0 while the spool has never held a chunk)."""
        with self._lock:
            return self._durable_seq

    # -- releasing and backpressure ----------------------------------------------------

    def release(self, seq: int) -> None:
        """Chunks up to ``seq`` are stored: forget them, deleting whole segments."""
        doomed: list[Segment] = []
        with self._lock:
            while self._marks and self._marks[0][0] <= seq:
                self._released = self._marks.popleft()[1]
            while len(self._segments) > 1 and self._segments[1].first_seq - 1 <= seq:
                doomed.append(self._segments.pop(0))
        for segment in doomed:
            try:
                segment.path.unlink()
            except FileNotFoundError:
                continue
            except OSError as error:
                logger.warning("could not delete released spool segment %s: %s",
                               segment.path, error)

    @property
    def backlog_bytes(self) -> int:
        """Bytes appended and not yet released (to within 1/64 of the bound, never less)."""
        with self._lock:
            return self._backlog()

    def _backlog(self) -> int:
        return self._appended - self._released

    def full(self) -> bool:
        """The backlog has reached its bound: appends are refused until a release."""
        with self._lock:
            return self._backlog() >= self.max_backlog_bytes

    # -- opening and closing -----------------------------------------------------------

    def close(self) -> None:
        """Write what is queued, stop the writer; later appends raise UsageError."""
        with self._lock:
            if self._closing and not self._thread.is_alive():
                return
            self._closing = True
            self._wake.notify_all()
            self._durable.notify_all()
        self._thread.join()
        self._writer.close()
        self._lock_file.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def _take_folder(self) -> TextIO:
        lock_file = (self.folder / "LOCK").open("a")
        try:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.close()
            raise UsageError(f"the spool {self.folder} is open in another process") from None
        return lock_file

    def _recover(self) -> None:
        found = sorted((first, entry) for entry in self.folder.iterdir()
                       if (first := parse_segment_name(entry.name)) is not None)
        for index, (first_seq, path) in enumerate(found):
            result = scan_segment(path, first_seq)
            if result.corrupt:
                logger.warning("%s: %d damaged records skipped", path, result.corrupt)
                self.corrupt_records += result.corrupt
            if result.torn and index == len(found) - 1:
                logger.warning("%s: %d bytes of an interrupted write cut off", path, result.torn)
                with path.open("r+b") as file:
                    file.truncate(result.segment.end)
                    os.fsync(file.fileno())
            elif result.torn:
                logger.warning("%s: %d damaged bytes at the end ignored", path, result.torn)
                self.corrupt_records += 1
            self._segments.append(result.segment)
            for seq, size in result.sizes:
                self._count_appended(seq, size)
        if not self._segments:
            self._segments.append(Segment(create_segment(self.folder, 1), 1, 0, 0))
        highest = max(max(s.last_seq, s.first_seq - 1) for s in self._segments)
        self._durable_seq = highest
        self._next_seq = highest + 1

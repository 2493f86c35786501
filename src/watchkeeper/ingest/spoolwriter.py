"""The spool's writer: group commit of queued records into segment files.

Runs on the spool's single writer thread. Records arrive in seq order; each group
that fits in the active segment is written with one ``write`` and made durable with
one ``fsync``, then its waiters are woken. A new segment is created (and the folder
fsynced, so that the file survives a crash) when the active one is full. The waiters
here let a thread, or a coroutine in its own event loop, sleep until then.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from watchkeeper.errors import WatchkeeperError
from watchkeeper.ingest.wal import Segment, segment_name

logger = logging.getLogger(__name__)

_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC


class Waiter(Protocol):
    """Whoever waits for a record: told once, with None or the error that lost it."""

    def resolve(self, error: OSError | None) -> None: ...


@dataclass(slots=True)
class Pending:
    seq: int
    data: bytes
    waiter: Waiter


class ThreadWaiter:
    """Lets a thread sleep until the writer has made its record durable (or failed)."""

    __slots__ = ("_done", "error")

    def __init__(self) -> None:
        self._done = threading.Event()
        self.error: OSError | None = None

    def resolve(self, error: OSError | None) -> None:
        self.error = error
        self._done.set()

    def wait(self) -> None:
        self._done.wait()


class LoopWaiter:
    """Settles an asyncio future from the writer thread, in the future's own loop."""

    __slots__ = ("_future", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._future: asyncio.Future[None] = loop.create_future()

    def resolve(self, error: OSError | None) -> None:
        try:
            self._loop.call_soon_threadsafe(self._settle, error)
        except RuntimeError:
            logger.debug("event loop closed before its spool append was settled")

    def _settle(self, error: OSError | None) -> None:
        if self._future.done():  # the awaiting task was cancelled; the record is written anyway
            return
        if error is None:
            self._future.set_result(None)
        else:
            self._future.set_exception(write_failed(error))

    async def wait(self) -> None:
        await self._future


def write_failed(error: OSError) -> WatchkeeperError:
    failure = WatchkeeperError(f"the spool could not write to disk: {error}")
    failure.__cause__ = error
    return failure


def sync_dir(folder: Path) -> None:
    """fsync a folder, so that files created or renamed in it survive a crash."""
    fd = os.open(folder, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def create_segment(folder: Path, first_seq: int) -> Path:
    """An empty segment file, durable in its folder."""
    path = folder / segment_name(first_seq)
    os.close(os.open(path, _FLAGS, 0o600))
    sync_dir(folder)
    return path


class SegmentWriter:
    """Appends records to the newest segment, rolling to a new one past ``segment_bytes``."""

    def __init__(self, folder: Path, active: Segment, segment_bytes: int, *, fsync: bool,
                 publish: Callable[[Segment, int, int], None],
                 add_segment: Callable[[Segment], None]) -> None:
        self._folder = folder
        self._segment_bytes = segment_bytes
        self._fsync = fsync
        self._publish = publish
        self._add_segment = add_segment
        self._active = active
        self._fd = os.open(active.path, _FLAGS, 0o600)
        self._size = active.end
        self._must_roll = False

    def write(self, batch: list[Pending]) -> None:
        """Write ``batch`` (seq order), waking each waiter once its record is durable."""
        start = 0
        while start < len(batch):
            try:
                if self._must_roll or (
                        self._size and self._size + len(batch[start].data) > self._segment_bytes):
                    self._roll(batch[start].seq)
                stop = self._fit(batch, start)
                self._write_all(b"".join(item.data for item in batch[start:stop]))
                if self._fsync:
                    os.fsync(self._fd)
            except OSError as error:
                logger.error("spool write failed, %d chunks refused: %s", len(batch) - start,
                             error)
                self._undo()
                for item in batch[start:]:
                    item.waiter.resolve(error)
                return
            self._publish(self._active, self._size, batch[stop - 1].seq)
            for item in batch[start:stop]:
                item.waiter.resolve(None)
            start = stop

    def close(self) -> None:
        os.close(self._fd)

    def _fit(self, batch: list[Pending], start: int) -> int:
        """End of the run of records from ``start`` that fits in the active segment."""
        room = self._segment_bytes - self._size
        stop = start
        while stop < len(batch) and (stop == start or len(batch[stop].data) <= room):
            room -= len(batch[stop].data)
            stop += 1
        return stop

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            self._size += written
            view = view[written:]

    def _roll(self, first_seq: int) -> None:
        path = create_segment(self._folder, first_seq)
        fd = os.open(path, _FLAGS, 0o600)
        os.close(self._fd)
        self._fd = fd
        self._active = Segment(path, first_seq, first_seq - 1, 0)
        self._size = 0
        self._must_roll = False
        self._add_segment(self._active)

    def _undo(self) -> None:
        """Cut a failed write off the file; if even that fails, go on in a new segment."""
        try:
            os.ftruncate(self._fd, self._active.end)
            self._size = self._active.end
        except OSError as error:
            logger.error("could not cut a failed spool write off %s: %s", self._active.path,
                         error)
            self._must_roll = True

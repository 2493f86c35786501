"""Following log files: new complete lines go to the spool, positions are kept on disk.

Files are polled every ``interval`` seconds. Each file is known by its identity
(device, inode), its path being only its latest name, so a rename within the
patterns is followed, not read twice. A file whose path now holds another file was
rotated away: it is read to its end (for ``retire_after`` seconds more, in case its
writer has not reopened yet) and the new file is read from its start. A file that
got shorter was truncated in place (copytruncate) and is read again from 0.

The position saved for a file moves past a chunk only after the spool has taken it,
so after a restart reading goes on where it stopped: nothing lost, nothing twice,
except the lines of a chunk taken just before a crash that came before the save.
A last line without its newline waits until it is completed, or until it is
``partial_max_age`` seconds old or ``max_line_bytes`` long.
"""

from __future__ import annotations

import glob
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from watchkeeper.errors import OverloadedError, UsageError, WatchkeeperError
from watchkeeper.ingest.counters import ReceiverCounters
from watchkeeper.ingest.spool import Spool
from watchkeeper.ingest.tailstate import (
    HEAD_BYTES,
    Position,
    fingerprint,
    load_positions,
    same_file,
    save_positions,
)

logger = logging.getLogger(__name__)

COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".zip", ".lz4")
"""Files of a followed folder that are skipped: rotated and compressed, not text."""


@dataclass(frozen=True, slots=True)
class TailSource:
    """A file, a folder (its files) or a glob pattern, and the parser of its lines."""

    pattern: str
    source_type: str


@dataclass(slots=True)
class _Followed:
    path: str
    source_type: str
    fd: int
    position: Position
    partial_since: float | None = None
    retired_at: float | None = None
    grew_at: float = 0.0
    size_seen: int = -1

    @property
    def key(self) -> tuple[int, int]:
        return self.position.dev, self.position.ino


class FileTailer:
    """Follows the files of ``sources``; :meth:`start` runs it on a thread,
    :meth:`poll_once` runs one pass on the caller's."""

    def __init__(self, spool: Spool, sources: Sequence[TailSource], state_file: Path, *,
                 interval: float = 0.25, chunk_bytes: int = 1 << 20,
                 max_line_bytes: int = 1 << 20, partial_max_age: float = 5.0,
                 retire_after: float = 5.0, from_end: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if chunk_bytes < 1 or max_line_bytes < 1:
            raise UsageError("tail chunk and line sizes must be positive")
        self.spool = spool
        self.sources = list(sources)
        self.state_file = state_file
        self.interval = interval
        self.chunk_bytes = chunk_bytes
        self.max_line_bytes = min(max_line_bytes, chunk_bytes)
        self.partial_max_age = partial_max_age
        self.retire_after = retire_after
        self.from_end = from_end
        self.counters = ReceiverCounters()
        """``received``/``accepted`` count lines, ``bytes`` the bytes of those lines."""
        self._clock = clock
        self._saved = load_positions(state_file)
        self._files: dict[tuple[int, int], _Followed] = {}
        self._retired: list[_Followed] = []
        self._unreadable: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Poll on a background thread until :meth:`stop`."""
        if self._thread is not None:
            raise UsageError("the file tailer is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="file-tailer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Finish the pass under way, save positions, close the files."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            self._save()
            for followed in [*self._files.values(), *self._retired]:
                os.close(followed.fd)
            self._files.clear()
            self._retired.clear()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # the thread must go on following files: log and retry
                logger.exception("file tailing pass failed")
            self._stop.wait(self.interval)

    def poll_once(self) -> int:
        """One pass over every file; returns the lines appended to the spool."""
        with self._lock:
            now = self._clock()
            found = self._match()
            self._follow(found, now)
            appended = 0
            try:
                for followed in list(self._retired):
                    appended += self._read(followed, now, final=False)
                    retired_at = now if followed.retired_at is None else followed.retired_at
                    if min(now - retired_at, now - followed.grew_at) >= self.retire_after:
                        appended += self._read(followed, now, final=True)
                        self._retired.remove(followed)
                        os.close(followed.fd)
                for followed in list(self._files.values()):
                    appended += self._read(followed, now, final=False)
            except OverloadedError:
                logger.debug("spool full; file tailing waits for the next pass")
            except UsageError:
                raise
            except WatchkeeperError as error:
                logger.error("file tailing stopped for this pass: %s", error)
            return appended

    def _match(self) -> dict[tuple[int, int], tuple[str, str, int]]:
        """Identity → (path, source type, size) of every regular file the sources name."""
        found: dict[tuple[int, int], tuple[str, str, int]] = {}
        for source in self.sources:
            for path in _expand(source.pattern):
                try:
                    info = os.stat(path)
                except OSError:
                    continue
                key = (info.st_dev, info.st_ino)
                if key not in found and stat.S_ISREG(info.st_mode):
                    found[key] = (path, source.source_type, info.st_size)
        return found

    def _follow(self, found: dict[tuple[int, int], tuple[str, str, int]], now: float) -> None:
        for key, followed in list(self._files.items()):
            if key not in found:  # rotated away or deleted: read what is left, then let go
                logger.info("%s was rotated or removed; reading it to its end", followed.path)
                followed.retired_at = now
                self._retired.append(self._files.pop(key))
                continue
            path, _, size = found[key]
            followed.path = path
            if size < followed.position.offset:
                logger.info("%s was truncated; reading it again from the start", path)
                followed.position.offset = 0
                followed.position.head_len = 0
                followed.partial_since = None
        retired = {followed.key: followed for followed in self._retired}
        for key, (path, source_type, size) in found.items():
            if key in retired:  # renamed back into the patterns: the same file again
                followed = retired[key]
                self._retired.remove(followed)
                followed.path, followed.retired_at = path, None
                self._files[key] = followed
            elif key not in self._files:
                self._open(key, path, source_type, size, now)

    def _open(self, key: tuple[int, int], path: str, source_type: str, size: int,
              now: float) -> None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as error:
            if path not in self._unreadable:
                logger.warning("cannot follow %s: %s", path, error)
                self._unreadable.add(path)
            return
        self._unreadable.discard(path)
        info = os.fstat(fd)
        if (info.st_dev, info.st_ino) != key:  # replaced since the glob: next pass
            os.close(fd)
            return
        position = Position(key[0], key[1], 0)
        saved = self._saved.get(path)
        if saved is None or (saved.dev, saved.ino) != key:
            saved = next((entry for entry in self._saved.values()
                          if (entry.dev, entry.ino) == key), None)
        if saved is not None and (saved.dev, saved.ino) == key and saved.offset <= size \
                and same_file(saved, fd):
            position = saved
        elif saved is None and self.from_end:
            position.offset = size
        self._files[key] = _Followed(path, source_type, fd, position, grew_at=now)

    def _read(self, followed: _Followed, now: float, *, final: bool) -> int:
        """Append the complete lines past the file's position, chunk by chunk."""
        lines_total = 0
        position = followed.position
        size = os.fstat(followed.fd).st_size
        if size != followed.size_seen:
            followed.size_seen = size
            followed.grew_at = now
        while True:
            data = os.pread(followed.fd, self.chunk_bytes, position.offset)
            if not data:
                break
            cut = data.rfind(b"\n") + 1
            if cut:
                payload = data[:cut]
            else:
                overdue = followed.partial_since is not None and \
                    now - followed.partial_since >= self.partial_max_age
                if not (final or overdue or len(data) >= self.max_line_bytes):
                    if followed.partial_since is None:
                        followed.partial_since = now
                    break
                cut = min(len(data), self.max_line_bytes)
                payload = data[:cut] + b"\n"
            lines = payload.count(b"\n")
            self.spool.append(followed.source_type, f"file:{followed.path}", payload)
            self.counters.received += lines
            self.counters.accepted += lines
            self.counters.bytes += cut
            lines_total += lines
            position.offset += cut
            followed.partial_since = None
            if position.head_len < min(position.offset, HEAD_BYTES):
                position.head_len, position.head_crc = fingerprint(followed.fd, position.offset)
            if followed.retired_at is None:
                self._save()
        return lines_total

    def _save(self) -> None:
        positions = {followed.path: followed.position for followed in self._files.values()}
        self._saved = positions
        save_positions(self.state_file, positions)


def _expand(pattern: str) -> list[str]:
    """The files a pattern names: a glob's matches, a folder's files (not its sub-folders)."""
    paths: list[str] = []
    for match in sorted(glob.glob(pattern)):
        if os.path.isdir(match):
            paths.extend(str(child) for child in sorted(Path(match).iterdir())
                         if child.is_file() and not child.name.endswith(COMPRESSED))
        else:
            paths.append(match)
    return paths


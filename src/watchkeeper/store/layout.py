"""Where the Parquet store keeps its files, and how a file becomes visible atomically.

    <root>/checkpoint                                highest spool number ever stored
    <root>/day=YYYY-MM-DD/part-<first>-<last>.parquet        one batch, or several merged
    <root>/day=YYYY-MM-DD/part-<first>-<last>-v<n>.parquet   the same range, rewritten

A file is written under a temporary name in its final folder, flushed to disk, then
renamed: the rename is the commit. Readers list only ``part-*.parquet`` names and, within
a day, drop every file whose range another listed file covers (the inputs of a merge, or
the older version of a rewrite), so no event is ever counted twice.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from watchkeeper.errors import UsageError, WatchkeeperError

MAX_SEQ = 10**16 - 1
"""The largest spool number a file name can carry (16 digits)."""
CHECKPOINT = "checkpoint"
LOCK = ".lock"
SPILL = ".spill"
TEMP_PREFIX = ".tmp-"
TRASH_PREFIX = ".trash-"
_PART = re.compile(r"part-(\d{16})-(\d{16})(?:-v(\d+))?\.parquet")
_DAY = re.compile(r"day=(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True, slots=True)
class PartFile:
    """One committed Parquet file: its day, spool range, version and size on disk."""

    path: Path
    day: date
    first: int
    last: int
    version: int
    size: int
    mtime_ns: int

    @property
    def identity(self) -> tuple[str, int, int]:
        """Changes whenever the file's content could have changed (cache key)."""
        return (str(self.path), self.size, self.mtime_ns)


def part_name(first: int, last: int, version: int = 0) -> str:
    suffix = f"-v{version}" if version else ""
    return f"part-{first:016d}-{last:016d}{suffix}.parquet"


def day_dir(root: Path, day: date) -> Path:
    return root / f"day={day.isoformat()}"


def _day_of(name: str) -> date | None:
    match = _DAY.fullmatch(name)
    if match is None:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def scan(root: Path) -> list[PartFile]:
    """Every committed file, superseded ones included, by day and range.

    Folders and files that vanish while being listed (retention, compaction) are left out.
    """
    found: list[PartFile] = []
    try:
        days = [(entry.name, _day_of(entry.name)) for entry in os.scandir(root)]
    except FileNotFoundError:
        return []
    for name, day in days:
        if day is None:
            continue
        try:
            entries = list(os.scandir(root / name))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            match = _PART.fullmatch(entry.name)
            if match is None:
                continue
            try:
                stat = entry.stat()
            except FileNotFoundError:
                continue
            first, last, version = int(match[1]), int(match[2]), int(match[3] or 0)
            found.append(
                PartFile(Path(entry.path), day, first, last, version, stat.st_size,
                         stat.st_mtime_ns)
            )
    found.sort(key=lambda f: (f.day, f.first, -f.last, -f.version))
    return found


def effective(files: Iterable[PartFile]) -> tuple[list[PartFile], list[PartFile]]:
    """Split files (sorted as :func:`scan` sorts them) into those to read and those that
    another file of the same day covers. Ranges that overlap without one covering the
    other cannot come from this store and are refused."""
    kept: list[PartFile] = []
    covered: list[PartFile] = []
    holder: PartFile | None = None
    for file in files:
        if holder is None or holder.day != file.day or file.first > holder.last:
            kept.append(file)
            holder = file
        elif file.last <= holder.last:
            covered.append(file)
        else:
            raise WatchkeeperError(
                f"spool range {file.first}..{file.last} overlaps {holder.path.name} without "
                "being part of it; move one of the two files out of the store",
                location=str(file.path),
            )
    return kept, covered


def check_range(first_seq: int, last_seq: int) -> None:
    """Refuse a spool range that no pipeline can produce."""
    for value in (first_seq, last_seq):
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsageError(f"spool numbers are integers, not {value!r}")
    if not 0 <= first_seq <= last_seq <= MAX_SEQ:
        raise UsageError(f"bad spool range {first_seq}..{last_seq}: numbers run from 0 to "
                         f"{MAX_SEQ} and the first may not exceed the last")


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's changes to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dir(path: Path) -> None:
    """Create a folder (and its parents) so that it survives a crash."""
    if path.is_dir():
        return
    make_dir(path.parent)
    path.mkdir(exist_ok=True)
    fsync_path(path.parent)


def write_atomic(target: Path, write: Callable[[Path], None]) -> None:
    """Have ``write`` fill a temporary file beside ``target``, then commit it by rename."""
    make_dir(target.parent)
    temp = target.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex}-{target.name}")
    try:
        write(temp)
        fsync_path(temp)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_path(target.parent)


def read_checkpoint(root: Path) -> int:
    path = root / CHECKPOINT
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return -1
    except (OSError, UnicodeDecodeError) as err:
        raise WatchkeeperError(f"cannot read the checkpoint: {err}", location=str(path)) from err
    if not text.isdigit():
        raise WatchkeeperError(f"checkpoint holds {text[:40]!r}, not a number",
                               location=str(path))
    return int(text)


def write_checkpoint(root: Path, seq: int) -> None:
    def fill(temp: Path) -> None:
        temp.write_text(f"{seq}\n", encoding="ascii")

    write_atomic(root / CHECKPOINT, fill)


def clean_leftovers(root: Path) -> int:
    """Remove what a crash can leave behind (temporary files, folders being deleted,
    spilled query data); returns how many were removed. Only the writer may call this."""
    removed = 0
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return 0
    for entry in entries:
        if entry.name.startswith((TRASH_PREFIX, SPILL)) and entry.is_dir():
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
        elif entry.name.startswith(TEMP_PREFIX):
            Path(entry.path).unlink(missing_ok=True)
            removed += 1
        elif _day_of(entry.name) is not None and entry.is_dir():
            for inner in os.scandir(entry.path):
                if inner.name.startswith(TEMP_PREFIX):
                    Path(inner.path).unlink(missing_ok=True)
                    removed += 1
    return removed


def remove_day(root: Path, day: date) -> None:
    """Delete a day's folder; readers stop seeing it at once (it is renamed first)."""
    folder = day_dir(root, day)
    trash = root / f"{TRASH_PREFIX}{uuid.uuid4().hex}-{folder.name}"
    os.replace(folder, trash)
    fsync_path(root)
    shutil.rmtree(trash)

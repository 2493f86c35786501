"""Inputs: files, folders, gzip and zip archives, each opened as one stream of bytes.

:func:`iter_inputs` turns the paths a user gives into :class:`InputFile` objects,
one per log stream: a plain file, a ``.gz`` file (found by its magic bytes, whatever
its name, and decompressed as it is read), each member of a zip archive (named
``archive.zip!inner/path``; zips and gzip files inside zips are opened in turn).
Folders are walked recursively in sorted order, hidden entries skipped. What cannot
be opened becomes an ``InputFile`` with an ``error``, reported as a Skip by the
reader, so that one bad archive never stops a run.

How the bytes of an input are cut into records is the parsers' business (see
:mod:`.lines` and :mod:`.jsondocs`).
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, BinaryIO

from watchkeeper.errors import UsageError
from watchkeeper.parsers.lines import BLOCK_SIZE

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
READ_ERRORS = (OSError, EOFError, zlib.error, zipfile.BadZipFile, NotImplementedError)
"""What reading a damaged or unreadable input raises: turned into a Skip, never raised."""
_ZIP_ERRORS = (*READ_ERRORS, ValueError)

Opener = Callable[[], AbstractContextManager[BinaryIO]]


@dataclass(frozen=True, slots=True)
class InputFile:
    """One log stream to read. Open it before advancing the iterator that gave it."""

    name: str
    """The source string (``log.file.path``): the path as given, ``a.zip!dir/x.evtx`` in zips."""
    size: int
    """Size in bytes on disk (compressed size for archives and their members)."""
    opener: Opener | None = field(default=None, repr=False, compare=False)
    error: str | None = None
    """Why this input cannot be read at all, e.g. a corrupt zip archive."""

    @property
    def sniff_name(self) -> str:
        """The name a parser should guess from: without a ``.gz`` suffix."""
        return self.name[:-3] if self.name.lower().endswith(".gz") else self.name

    def open(self) -> AbstractContextManager[BinaryIO]:
        """The decompressed stream; raises one of ``READ_ERRORS`` if it cannot be read."""
        if self.opener is None:
            raise OSError(self.error or "no opener")
        return self.opener()


def iter_inputs(paths: Iterable[str | os.PathLike[str]]) -> Iterator[InputFile]:
    """Every log stream under ``paths``; UsageError at once when a path does not exist."""
    given = [os.fspath(path) for path in paths]
    missing = [path for path in given if not os.path.lexists(path)]
    if missing:
        raise UsageError("no such file or folder: " + ", ".join(missing))
    return _walk_all(given)


def _walk_all(paths: list[str]) -> Iterator[InputFile]:
    for path in paths:
        if os.path.isdir(path):
            yield from _walk_folder(path, set())
        else:
            yield from _file_inputs(path)


def _walk_folder(folder: str, seen: set[tuple[int, int]]) -> Iterator[InputFile]:
    """The inputs under ``folder``; ``seen`` folders (by device and inode) are not re-entered."""
    try:
        info = os.stat(folder)
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as exc:
        yield InputFile(folder, 0, error=f"cannot list folder: {exc.strerror or exc}")
        return
    if (info.st_dev, info.st_ino) in seen:
        return  # a symbolic link loop
    seen.add((info.st_dev, info.st_ino))
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()
            is_file = entry.is_file()
        except OSError as exc:
            yield InputFile(entry.path, 0, error=f"cannot stat: {exc.strerror or exc}")
            continue
        if is_dir:
            yield from _walk_folder(entry.path, seen)
        elif is_file:
            yield from _file_inputs(entry.path)


@contextmanager
def _open_file(path: str, compressed: bool) -> Iterator[BinaryIO]:
    with open(path, "rb") as raw:
        if compressed:
            yield from _gunzipped(raw)
        else:
            yield raw


def _gunzipped(raw: BinaryIO) -> Iterator[BinaryIO]:
    """A gzip stream decompressed as read; a cut stream ends early, then raises EOFError.

    The error comes when the reader is done (as the context closes), after everything
    that could be decompressed was read: the good start of a cut file is kept.
    """
    reader = _Gunzip(raw)
    yield io.BufferedReader(reader, BLOCK_SIZE)
    if reader.error:
        raise EOFError(reader.error)


class _Gunzip(io.RawIOBase):
    """Streaming gzip (all members) that stops cleanly where the data is cut."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._inflate = zlib.decompressobj(31)
        self._fed = False
        self._pending = b""
        self.error: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._pending:
            self._pending = self._inflate_some()
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def _inflate_some(self) -> bytes:
        """The next piece of output (bounded by BLOCK_SIZE); empty at the end."""
        while True:
            inflate = self._inflate
            if inflate.unconsumed_tail:
                data = inflate.unconsumed_tail
            elif inflate.eof:  # a member ended: another one may follow
                data = inflate.unused_data or self._raw.read(BLOCK_SIZE)
                if not data.strip(b"\0"):
                    return b""
                self._inflate = inflate = zlib.decompressobj(31)
            else:
                data = self._raw.read(BLOCK_SIZE)
                if not data:
                    if self._fed:
                        self.error = "gzip data is cut: it ends before its end-of-stream marker"
                    return b""
            self._fed = True
            output = inflate.decompress(data, BLOCK_SIZE)
            if output:
                return output


def _file_inputs(path: str) -> Iterator[InputFile]:
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            yield InputFile(path, 0, error="not a regular file")
            return
        with open(path, "rb") as raw:
            magic = raw.read(4)
    except OSError as exc:
        yield InputFile(path, 0, error=f"cannot open: {exc.strerror or exc}")
        return
    if magic in ZIP_MAGICS:
        try:
            with zipfile.ZipFile(path) as archive:
                yield from _zip_members(archive, path)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            yield InputFile(path, info.st_size, error=f"corrupt zip archive: {exc}")
        return
    compressed = magic.startswith(GZIP_MAGIC)
    yield InputFile(path, info.st_size, partial(_open_file, path, compressed))


@contextmanager
def _open_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, compressed: bool
                 ) -> Iterator[BinaryIO]:
    with archive.open(member) as raw:
        if compressed:
            yield from _gunzipped(raw)  # type: ignore[arg-type]
        else:
            yield raw  # type: ignore[misc]


def _zip_members(archive: zipfile.ZipFile, prefix: str) -> Iterator[InputFile]:
    members = sorted(archive.infolist(), key=lambda info: info.filename)
    for member in members:
        parts = member.filename.rstrip("/").split("/")
        if member.is_dir() or any(part.startswith(".") or part == "__MACOSX" for part in parts):
            continue
        name = f"{prefix}!{member.filename}"
        if member.flag_bits & 0x1:
            yield InputFile(name, member.compress_size, error="encrypted zip member")
            continue
        try:
            with archive.open(member) as raw:
                magic = raw.read(4)
        except READ_ERRORS as exc:
            yield InputFile(name, member.compress_size, error=f"cannot read zip member: {exc}")
            continue
        if magic in ZIP_MAGICS:
            yield from _nested_zip(archive, member, name)
            continue
        compressed = magic.startswith(GZIP_MAGIC)
        opener = partial(_open_member, archive, member, compressed)
        yield InputFile(name, member.compress_size, opener)


def _nested_zip(archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str
                ) -> Iterator[InputFile]:
    """A zip inside a zip, spooled to a temporary file: zip reading needs to seek."""
    with tempfile.TemporaryFile() as spool:
        try:
            with archive.open(member) as raw:
                shutil.copyfileobj(raw, spool, BLOCK_SIZE)
            spool.seek(0)
            inner = zipfile.ZipFile(spool)
        except _ZIP_ERRORS as exc:
            yield InputFile(name, member.compress_size, error=f"corrupt zip archive: {exc}")
            return
        with inner:
            yield from _zip_members(inner, name)

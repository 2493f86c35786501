"""Inputs: files, folders, gzip and zip archives, and the framing of their bytes.

:func:`iter_inputs` turns the paths a user gives into :class:`InputFile` objects,
one per log stream: a plain file, a ``.gz`` file (found by its magic bytes, whatever
its name, and decompressed as it is read), each member of a zip archive (named
``archive.zip!inner/path``; zips and gzip files inside zips are opened in turn).
Folders are walked recursively in sorted order, hidden entries skipped. What cannot
be opened becomes an ``InputFile`` with an ``error``, reported as a Skip by the
reader, so that one bad archive never stops a run.

:func:`iter_blocks`, :func:`iter_lines` and :func:`iter_json_documents` frame a
stream for the parsers: UTF-8 bytes (a UTF-16 file is transcoded, a BOM dropped),
then lines or JSON documents with their byte offsets and line numbers, in batches.
Memory is bounded by the batch size and the block size, never by the file size.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from itertools import accumulate, chain
from typing import Any, BinaryIO

from watchkeeper.errors import UsageError
from watchkeeper.events.model import Skip

BLOCK_SIZE = 1 << 20
MAX_LINE = 64 << 20
"""A line longer than this is skipped rather than held in memory."""
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


def iter_blocks(stream: BinaryIO, size: int = BLOCK_SIZE) -> Iterator[bytes]:
    """The stream as UTF-8 blocks: a UTF-8 BOM dropped, UTF-16 (by its BOM) transcoded."""
    first = stream.read(size)
    if first.startswith(codecs.BOM_UTF8):
        first = first[len(codecs.BOM_UTF8):]
    elif first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        block = first
        while block:
            yield decoder.decode(block).encode("utf-8", "surrogatepass")
            block = stream.read(size)
        yield decoder.decode(b"", final=True).encode("utf-8", "surrogatepass")
        return
    block = first
    while block:
        yield block
        block = stream.read(size)


@dataclass(slots=True)
class LineBatch:
    """Up to ``batch_size`` non-blank lines (no line terminator) with where each one was."""

    lines: list[bytes] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)


def iter_lines(stream: BinaryIO, source: str, batch_size: int, max_line: int = MAX_LINE
               ) -> Iterator[LineBatch]:
    """Batches of the stream's non-blank lines, with 0-based byte offsets and 1-based numbers.

    The bookkeeping is done with C-level list operations, not a Python loop per line:
    this is the hot path of JSON lines.
    """
    return _lines(iter_blocks(stream), source, batch_size, max_line)


def _lines(blocks: Iterable[bytes], source: str, batch_size: int, max_line: int
           ) -> Iterator[LineBatch]:
    batch_size = max(1, batch_size)
    batch = LineBatch()
    carry = b""
    offset = 0  # offset of carry[0]
    number = 1  # line number of carry's line
    oversized = False
    for block in blocks:
        data = carry + block if carry else block
        pieces = data.split(b"\n")
        carry = pieces.pop()
        blank = _BLANK_FIRST.match(data) is not None or _BLANK_LINE.search(data) is not None
        shape = _Shape(blank, b"\r" in data)
        if oversized and pieces:
            too_long = f"line longer than {max_line} bytes"
            batch.skipped.append(Skip(source, f"line {number}", too_long))
            offset += len(pieces[0]) + 1
            number += 1
            pieces = pieces[1:]
            oversized = False
        while pieces:
            room = batch_size - len(batch.lines)
            taken, pieces = pieces[:room], pieces[room:]
            offset, number = _add_lines(batch, taken, offset, number, shape)
            if len(batch.lines) >= batch_size:
                yield batch
                batch = LineBatch()
        if len(carry) > max_line:
            offset += len(carry)
            carry = b""
            oversized = True
    if oversized:
        batch.skipped.append(Skip(source, f"line {number}", f"line longer than {max_line} bytes"))
    elif carry:
        _add_lines(batch, [carry], offset, number, _Shape(True, True))
    if batch.lines or batch.skipped:
        yield batch


_BLANK_LINE = re.compile(rb"\n[ \t\r\f\v]*\n")
_BLANK_FIRST = re.compile(rb"[ \t\r\f\v]*\n")


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a block holds that needs a per-line look: blank lines, carriage returns."""

    blank: bool
    cr: bool


def _add_lines(batch: LineBatch, pieces: list[bytes], offset: int, number: int, shape: _Shape
               ) -> tuple[int, int]:
    """Append ``pieces`` (lines from ``offset``/``number`` on) but blank ones; the next position."""
    lengths = list(map(len, pieces))
    offsets = list(accumulate(map((1).__add__, lengths), initial=offset))
    numbers = range(number, number + len(pieces))
    if shape.blank:
        keep = [index for index, piece in enumerate(pieces) if piece.strip()]
        pieces = [pieces[index] for index in keep]
        batch.offsets.extend(offsets[index] for index in keep)
        batch.numbers.extend(numbers[index] for index in keep)
    else:
        batch.offsets.extend(offsets[:-1])
        batch.numbers.extend(numbers)
    if shape.cr:
        pieces = [piece[:-1] if piece.endswith(b"\r") else piece for piece in pieces]
    batch.lines.extend(pieces)
    return offsets[-1], number + len(lengths)


# --- JSON documents: JSON lines, or arrays / concatenated (pretty-printed) objects ---

_NON_BRACKET = re.compile(rb'[^"{}\[\]]*+(?:"(?:[^"\\]++|\\.)*+"[^"{}\[\]]*+)*+')
"""Everything up to the next bracket outside a string (an unterminated string stops it)."""
_GAP = re.compile(rb"(?:[\s,]|Record \d+)*+")
"""What may stand between documents: blanks, commas, evtx_dump's ``Record N`` headers."""


def json_layout(head: bytes) -> str:
    """``lines`` for JSON lines, ``values`` for an array or pretty-printed objects."""
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()
    first_line = text.split(b"\n", 1)[0].strip()
    if text.startswith(b"[") or first_line == b"{" or first_line.startswith(b"Record "):
        return "values"
    return "lines"


def iter_json_documents(stream: BinaryIO, source: str, batch_size: int,
                        max_document: int = MAX_LINE) -> Iterator[LineBatch]:
    """Batches of JSON documents, each on one line (bytes) with its offset and line number.

    JSON lines are passed through; the elements of top-level arrays and objects
    written over several lines are cut out with a bracket scan (strings skipped by one
    regular expression, so a document costs a few regex steps) and their line breaks
    turned into blanks, which JSON allows between tokens. The document itself is not
    checked here: a broken one fails to parse later, with its line number.
    """
    blocks = iter_blocks(stream)
    first = next(blocks, b"")
    if json_layout(first[:65536]) == "lines":
        yield from _lines(chain([first], blocks), source, batch_size, max_document)
        return
    yield from _ValueScanner(source, batch_size, max_document).scan(first, blocks)


class _ValueScanner:
    """Cuts top-level JSON values (inside at most one array level) out of a stream."""

    def __init__(self, source: str, batch_size: int, max_document: int) -> None:
        self.source = source
        self.batch_size = max(1, batch_size)
        self.max_document = max_document
        self.batch = LineBatch()

    def _skip(self, line: int, reason: str) -> None:
        self.batch.skipped.append(Skip(self.source, f"line {line}", reason))

    def _emit(self, document: bytes, offset: int, line: int) -> None:
        self.batch.lines.append(document.replace(b"\n", b" ").replace(b"\r", b" "))
        self.batch.offsets.append(offset)
        self.batch.numbers.append(line)

    def scan(self, first: bytes, blocks: Iterator[bytes]) -> Iterator[LineBatch]:
        buf = first
        base = 0  # absolute offset of buf[0]
        line_pos, line_no = 0, 1  # buf[line_pos] is on line line_no
        pos = 0  # scan position
        gap = 0  # start of the text since the last value, or of the current value
        depth = 0  # bracket depth
        value_depth = -1  # depth at which the current value started; -1: none
        eof = False

        def line_at(at: int) -> int:
            nonlocal line_pos, line_no
            line_no += buf.count(b"\n", line_pos, at)
            line_pos = at
            return line_no

        discard = False  # the current value is too long: track its brackets, keep nothing
        while True:
            pos = _NON_BRACKET.match(buf, pos).end()  # type: ignore[union-attr]
            if pos < len(buf) and buf[pos] != 0x22:  # a bracket outside strings
                char = buf[pos]
                pos += 1
                if value_depth >= 0:
                    depth += 1 if char in b"{[" else -1
                    if depth == value_depth and not discard:
                        self._emit(buf[gap:pos], base + gap, line_at(gap))
                        if len(self.batch.lines) >= self.batch_size:
                            yield self.batch
                            self.batch = LineBatch()
                    if depth == value_depth:
                        value_depth, gap, discard = -1, pos, False
                    continue
                if _GAP.fullmatch(buf, gap, pos - 1) is None:
                    self._skip(line_at(gap), "not a JSON object: " + _excerpt(buf[gap:pos - 1]))
                if char == 0x5B and depth == 0:  # "[" opens the array of documents
                    depth, gap = 1, pos
                elif char in b"{[":
                    value_depth, gap = depth, pos - 1
                    depth += 1
                elif depth == 1 and char == 0x5D:  # "]" closes it
                    depth, gap = 0, pos
                else:
                    self._skip(line_at(pos - 1), f"unexpected {chr(char)!r}")
                    gap = pos
                continue
            # The buffer ends (or an unterminated string does): read on.
            if eof:
                if value_depth >= 0 and not discard:
                    self._skip(line_at(gap), "truncated JSON document: the input ends inside it")
                elif value_depth < 0 and _GAP.fullmatch(buf, gap) is None:
                    self._skip(line_at(gap), "not a JSON object: " + _excerpt(buf[gap:]))
                break
            if len(buf) - gap > self.max_document and not discard:
                what = "JSON document" if value_depth >= 0 else "text between JSON documents"
                self._skip(line_at(gap), f"{what} longer than {self.max_document} bytes")
                discard = value_depth >= 0
                if not discard:
                    gap = pos
            keep = pos if discard else gap
            line_at(keep)
            line_pos -= keep
            base += keep
            buf, pos, gap = buf[keep:], pos - keep, max(0, gap - keep)
            block = next(blocks, None)
            if block is None:
                eof = True
            else:
                buf += block
        if self.batch.lines or self.batch.skipped:
            yield self.batch


def _excerpt(data: bytes, limit: int = 40) -> str:
    text = data.strip().decode("utf-8", "replace")
    return repr(text[:limit] + ("…" if len(text) > limit else ""))

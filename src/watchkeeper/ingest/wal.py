"""The spool's on-disk format: framed, checksummed records in segment files.

A segment ``seg-<first_seq:016d>.wal`` is a plain sequence of records, no file header.
Each record is::

    magic "WKr1" | body length (u32) | CRC32 of body (u32) | body
    body = seq (u64) | received, µs since the epoch (i64) | len(source_type) (u16)
           | len(origin) (u16) | source_type | origin | payload

all little-endian. The magic lets a reader find the next record after damaged bytes;
the CRC tells a whole record from a torn or corrupted one. :func:`scan_segment` is
the recovery pass run when a spool is opened.
"""

from __future__ import annotations

import datetime as dt
import mmap
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from watchkeeper.errors import UsageError

MAGIC = b"WKr1"
HEAD = struct.Struct("<4sII")
BODY_HEAD = struct.Struct("<QqHH")
PEEK = HEAD.size + 8
"""Bytes needed to learn a record's length and seq without reading its payload."""
MAX_NAME = 0xFFFF
SEGMENT_PREFIX = "seg-"
SEGMENT_SUFFIX = ".wal"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One append to the spool: raw input of one format from one origin."""

    seq: int
    """Strictly increasing, never reused, survives restarts."""
    source_type: str
    """The parser name (``syslog``, ``winlog-json``…) or ``auto``."""
    origin: str
    """Who sent it: ``syslog+tcp://10.0.0.5:51234``, ``http:<token name>``, ``file:<path>``."""
    received: dt.datetime
    """When the receiver took it, UTC."""
    payload: bytes


def segment_name(first_seq: int) -> str:
    return f"{SEGMENT_PREFIX}{first_seq:016d}{SEGMENT_SUFFIX}"


def parse_segment_name(name: str) -> int | None:
    """The first seq a segment file name announces, or None for a file that is not one."""
    if not (name.startswith(SEGMENT_PREFIX) and name.endswith(SEGMENT_SUFFIX)):
        return None
    digits = name[len(SEGMENT_PREFIX) : -len(SEGMENT_SUFFIX)]
    return int(digits) if digits.isdigit() else None


def encode(seq: int, received: dt.datetime, source_type: str, origin: str,
           payload: bytes) -> bytes:
    """One framed record, ready to be written."""
    kind = source_type.encode("utf-8")
    where = origin.encode("utf-8")
    if not kind or len(kind) > MAX_NAME or len(where) > MAX_NAME:
        raise UsageError("a spool record needs a source type and an origin of at most 64 KiB")
    micros = (received - _EPOCH) // dt.timedelta(microseconds=1)
    body = b"".join((BODY_HEAD.pack(seq, micros, len(kind), len(where)), kind, where, payload))
    return HEAD.pack(MAGIC, len(body), zlib.crc32(body)) + body


def decode_body(body: bytes | memoryview) -> Chunk:
    """The chunk held in a record body whose CRC has been checked."""
    seq, micros, kind_len, where_len = BODY_HEAD.unpack_from(body)
    start = BODY_HEAD.size
    kind = bytes(body[start : start + kind_len]).decode("utf-8", "replace")
    start += kind_len
    where = bytes(body[start : start + where_len]).decode("utf-8", "replace")
    start += where_len
    received = _EPOCH + dt.timedelta(microseconds=micros)
    return Chunk(seq, kind, where, received, bytes(body[start:]))


def check_record(view: memoryview, pos: int) -> tuple[int, int] | None:
    """``(seq, end)`` of a whole, intact record at ``pos``, or None."""
    if pos + HEAD.size > len(view):
        return None
    magic, length, crc = HEAD.unpack_from(view, pos)
    start = pos + HEAD.size
    end = start + length
    if magic != MAGIC or length < BODY_HEAD.size or end > len(view):
        return None
    body = view[start:end]
    if zlib.crc32(body) != crc:
        return None
    seq, _, kind_len, where_len = BODY_HEAD.unpack_from(body)
    if BODY_HEAD.size + kind_len + where_len > length:
        return None
    return seq, end


@dataclass(slots=True)
class Segment:
    """What recovery (and then the writer) knows of one segment file."""

    path: Path
    first_seq: int
    last_seq: int
    """Highest seq in the file; ``first_seq - 1`` while it holds none."""
    end: int
    """Bytes of whole, durable records; readers never look past it."""
    holes: dict[int, int] = field(default_factory=dict)
    """Damaged byte ranges (start → end) that readers jump over."""


@dataclass(slots=True)
class ScanResult:
    segment: Segment
    corrupt: int
    """Damaged stretches skipped in the middle of the file."""
    torn: int
    """Bytes after the last whole record (a crash during a write, or damage)."""
    sizes: list[tuple[int, int]]
    """``(seq, bytes)`` per whole record, in file order."""


def scan_segment(path: Path, first_seq: int) -> ScanResult:
    """Every whole record of a segment: damaged bytes in the middle are stepped over
    (up to the next record that checks out), damaged bytes at the end are reported as torn."""
    segment = Segment(path, first_seq, first_seq - 1, 0)
    sizes: list[tuple[int, int]] = []
    corrupt = 0
    with path.open("rb") as file:
        size = path.stat().st_size
        if size == 0:
            return ScanResult(segment, 0, 0, sizes)
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped, \
                memoryview(mapped) as view:
            pos = 0
            while pos < size:
                found = check_record(view, pos)
                if found is None:
                    resume = _next_record(mapped, view, pos + 1)
                    if resume is None:
                        break
                    segment.holes[pos] = resume
                    corrupt += 1
                    pos = resume
                    continue
                seq, end = found
                sizes.append((seq, end - pos))
                segment.last_seq = max(segment.last_seq, seq)
                pos = end
            segment.end = pos
    return ScanResult(segment, corrupt, size - segment.end, sizes)


def _next_record(mapped: mmap.mmap, view: memoryview, start: int) -> int | None:
    """Offset of the next intact record at or after ``start``."""
    pos = mapped.find(MAGIC, start)
    while pos != -1:
        if check_record(view, pos) is not None:
            return pos
        pos = mapped.find(MAGIC, pos + 1)
    return None


@dataclass(slots=True)
class ReadResult:
    chunks: list[Chunk]
    end: int
    """Offset just past the last record looked at: where the next read may go on."""
    damaged: int
    """Records found damaged on the way (written whole, changed on disk since)."""


def read_records(path: Path, start: int, end: int, holes: dict[int, int], after: int,
                 budget: int) -> ReadResult:
    """Chunks with seq > ``after`` from byte ``start`` of a segment up to byte ``end``,
    until about ``budget`` payload bytes are taken. ``start`` must be a record boundary.

    Raises FileNotFoundError when the segment has just been released."""
    chunks: list[Chunk] = []
    damaged = 0
    pos = start
    with path.open("rb") as file:
        while pos < end and budget > 0:
            if pos in holes:
                pos = holes[pos]
                continue
            file.seek(pos)
            peek = file.read(PEEK)
            if len(peek) < PEEK:
                break
            magic, length, crc = HEAD.unpack_from(peek)
            if magic != MAGIC:
                damaged += 1
                pos = end  # cannot trust the length: the rest of this segment is lost
                break
            following = pos + HEAD.size + length
            (seq,) = struct.unpack_from("<Q", peek, HEAD.size)
            if seq > after:
                body = file.read(length - 8)
                whole = peek[HEAD.size :] + body
                if len(whole) == length and zlib.crc32(whole) == crc:
                    chunk = decode_body(whole)
                    chunks.append(chunk)
                    budget -= len(chunk.payload) + 1
                else:
                    damaged += 1
            pos = following
    return ReadResult(chunks, pos, damaged)

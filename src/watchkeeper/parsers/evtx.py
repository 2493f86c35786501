"""Windows EVTX files, read with the ``evtx`` package (pyevtx-rs, a Rust parser).

The library reports a damaged chunk or record by raising ``RuntimeError`` from the
record iterator and then carries on with the next one; each becomes a Skip naming
the chunk (or record) and the library's reason. It silently passes over a chunk
whose records it cannot find at all (a zeroed record header, a file cut inside a
chunk), so the chunk headers are read beforehand and a chunk that announced records
but gave none is reported too: nothing is lost without a word.
"""

from __future__ import annotations

import bisect
import io
import os
import re
import shutil
import stat
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, BinaryIO

import orjson
from evtx import PyEvtxParser

from watchkeeper.events.model import Skip
from watchkeeper.parsers.base import DEFAULT_BATCH_SIZE, ParsedChunk, Parser
from watchkeeper.parsers.windows import windows_frame
from watchkeeper.parsers.winfields import FlatEvent, flatten_json

FILE_MAGIC = b"ElfFile\x00"
CHUNK_MAGIC = b"ElfChnk\x00"
FILE_HEADER_SIZE = 4096
CHUNK_SIZE = 65536
CHUNK_HEADER_SIZE = 512
MAX_CONSECUTIVE_ERRORS = 10_000
"""Give up on a file whose iterator keeps failing: a guard against a library loop."""

_CHUNK_NUMBER = re.compile(r"chunk number (\d+)")
_RECORD_IDS = re.compile(r"record IDs (\d+)\.\.(\d+)")
_RECORD_NUMBER = re.compile(r"record number (\d+)")


@dataclass(frozen=True, slots=True)
class _Chunk:
    index: int
    first_id: int
    last_id: int
    truncated_at: int | None
    """Bytes present when the file ends inside this chunk, else None."""


def _read_chunks(file: IO[bytes]) -> list[_Chunk]:
    """The chunks whose header is valid and that hold records, sorted by first record id."""
    size = os.fstat(file.fileno()).st_size
    chunks = []
    for index, start in enumerate(range(FILE_HEADER_SIZE, size, CHUNK_SIZE)):
        file.seek(start)
        header = file.read(CHUNK_HEADER_SIZE)
        if header.startswith(CHUNK_MAGIC) and len(header) >= 52:
            first_id, last_id = struct.unpack_from("<QQ", header, 24)
            free_space = struct.unpack_from("<I", header, 48)[0]
            present = size - start
            if free_space > CHUNK_HEADER_SIZE and last_id >= first_id:
                truncated = present if present < CHUNK_SIZE else None
                chunks.append(_Chunk(index, first_id, last_id, truncated))
    return sorted(chunks, key=lambda chunk: chunk.first_id)


@contextmanager
def _real_file(stream: BinaryIO) -> Iterator[IO[bytes]]:
    """The stream itself when it is a regular file, else a spooled copy on disk.

    Both the chunk scan and the library seek, which a gzip or zip stream does badly.
    """
    regular = False
    if isinstance(stream, io.BufferedReader | io.FileIO):  # not GzipFile: its fileno lies
        try:
            regular = stat.S_ISREG(os.fstat(stream.fileno()).st_mode) and stream.seekable()
        except (OSError, ValueError):
            regular = False
    if regular:
        yield stream
        return
    with tempfile.TemporaryFile() as spool:
        shutil.copyfileobj(stream, spool, 1 << 20)
        spool.seek(0)
        yield spool


class EvtxParser(Parser):
    """Windows EVTX files: every record of every readable chunk."""

    name = "evtx"
    description = "Windows event log files (.evtx)"

    @classmethod
    def sniff(cls, head: bytes, filename: str) -> int:
        return 100 if head.startswith(FILE_MAGIC) else 0

    def parse(
        self, stream: BinaryIO, source: str, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[ParsedChunk]:
        with _real_file(stream) as file:
            yield from self._parse_file(file, source, batch_size)

    def _parse_file(self, file: IO[bytes], source: str, batch_size: int) -> Iterator[ParsedChunk]:
        chunks = _read_chunks(file)
        file.seek(0)
        try:
            records = PyEvtxParser(file).records_json()
        except (OSError, RuntimeError, ValueError) as exc:
            yield ParsedChunk(windows_frame([], source, []), [Skip(source, "file", str(exc))])
            return
        reporter = _Reporter(source, chunks)
        events: list[FlatEvent] = []
        originals: list[str] = []
        offsets: list[int] = []
        index = 0
        errors_in_a_row = 0
        while errors_in_a_row < MAX_CONSECUTIVE_ERRORS:
            try:
                record = next(records)
            except StopIteration:
                break
            except (RuntimeError, OSError, ValueError) as exc:
                errors_in_a_row += 1
                reporter.library_error(str(exc), index)
                continue
            if record is None:  # the stub allows it; the library ends with StopIteration
                break
            errors_in_a_row = 0
            reporter.seen(record.get("event_record_id"))
            event = self._flatten(record, reporter)
            if event is None:
                continue
            events.append(event)
            offsets.append(index)
            if self.keep_original:
                originals.append(record["data"])
            index += 1
            if len(events) >= batch_size:
                yield self._chunk(events, source, offsets, originals, reporter.take())
                events, offsets, originals = [], [], []
        else:
            reporter.give_up()
        reporter.unread_chunks()
        skipped = reporter.take()
        if events or skipped:
            yield self._chunk(events, source, offsets, originals, skipped)

    def _flatten(self, record: dict[str, Any], reporter: _Reporter) -> FlatEvent | None:
        try:
            return flatten_json(orjson.loads(record["data"]))
        except (ValueError, KeyError, TypeError) as exc:
            reporter.record_error(record.get("event_record_id"), f"unreadable record: {exc}")
            return None

    def _chunk(self, events: list[FlatEvent], source: str, offsets: list[int],
               originals: list[str], skipped: list[Skip]) -> ParsedChunk:
        frame = windows_frame(
            events, source, offsets, originals=originals if self.keep_original else None
        )
        return ParsedChunk(frame, skipped)


class _Reporter:
    """Turns the library's errors and the chunk accounting into Skips for one file."""

    def __init__(self, source: str, chunks: list[_Chunk]) -> None:
        self.source = source
        self.chunks = chunks
        self.firsts = [chunk.first_id for chunk in chunks]
        self.seen_chunks: set[int] = set()
        self.reported_chunks: set[int] = set()
        self.skipped: list[Skip] = []

    def _chunk_of(self, record_id: int) -> _Chunk | None:
        position = bisect.bisect_right(self.firsts, record_id) - 1
        if position >= 0 and record_id <= self.chunks[position].last_id:
            return self.chunks[position]
        return None

    def seen(self, record_id: object) -> None:
        if isinstance(record_id, int):
            chunk = self._chunk_of(record_id)
            if chunk is not None:
                self.seen_chunks.add(chunk.index)

    def library_error(self, message: str, index: int) -> None:
        location = f"record {index}"
        if match := _CHUNK_NUMBER.search(message):
            location = f"chunk {match[1]}"
            self.reported_chunks.add(int(match[1]))
        elif match := _RECORD_IDS.search(message):
            chunk = self._chunk_of(int(match[1]))
            location = f"chunk {chunk.index}" if chunk else f"record {match[1]}"
            if chunk:
                self.reported_chunks.add(chunk.index)
        elif match := _RECORD_NUMBER.search(message):
            location = f"record {match[1]}"
        self.skipped.append(Skip(self.source, location, message))

    def record_error(self, record_id: object, reason: str) -> None:
        self.skipped.append(Skip(self.source, f"record {record_id}", reason))

    def give_up(self) -> None:
        self.skipped.append(
            Skip(self.source, "file", f"gave up after {MAX_CONSECUTIVE_ERRORS} errors in a row")
        )

    def unread_chunks(self) -> None:
        for chunk in sorted(self.chunks, key=lambda chunk: chunk.index):
            if chunk.index in self.seen_chunks or chunk.index in self.reported_chunks:
                continue
            ids = f"record IDs {chunk.first_id}..{chunk.last_id}"
            if chunk.truncated_at is not None:
                reason = f"chunk truncated: the file ends {chunk.truncated_at} bytes in ({ids})"
            else:
                reason = f"no record of this chunk could be read ({ids})"
            self.skipped.append(Skip(self.source, f"chunk {chunk.index}", reason))

    def take(self) -> list[Skip]:
        taken, self.skipped = self.skipped, []
        return taken


PARSERS: list[type[Parser]] = [EvtxParser]

"""Cutting a byte stream into lines, a block at a time, each with where it was.

One splitter serves every line-oriented parser: it cuts blocks at ``\\n``, numbers
the lines from 1, counts their byte offsets, drops blank lines and a line's final
``\\r``, and skips a line longer than ``max_line`` (its bytes are thrown away as
they come, so memory is bounded by the block size and the limit, never by the
file). The work is done with C-level list operations, not a Python step per line:
this is the hot path of JSON lines. Two batchings sit on it:

* :func:`iter_lines`: lines as bytes (Windows JSON, Sysmon for Linux). The stream is
  first made UTF-8 by :func:`iter_blocks` (a BOM dropped, UTF-16 transcoded);
  offsets count those UTF-8 bytes.
* :func:`read_line_frames`: lines as text in a Polars frame, for the parsers that
  match them with column expressions (syslog, auditd, the JSON-lines formats). The
  bytes are read as they are (invalid UTF-8 replaced); a UTF-8 BOM is dropped but
  counted in the offsets, and a line of Unicode blanks is blank too.

:func:`sample_lines` gives the first lines of a file's head, for sniffing.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import accumulate, chain
from typing import Protocol

import polars as pl

from watchkeeper.events.model import Skip

BLOCK_SIZE = 1 << 20
MAX_LINE = 64 << 20
"""Longest line :func:`iter_lines` keeps; a longer one is skipped rather than held in memory."""
MAX_TEXT_LINE = 1 << 20
"""Longest line :func:`read_line_frames` keeps (1 MiB): the text formats have short lines."""
SNIFF_LINES = 20
_BOM = codecs.BOM_UTF8
_BLANK_LINE = re.compile(rb"\n[ \t\r\f\v]*\n")
_BLANK_FIRST = re.compile(rb"[ \t\r\f\v]*\n")


class ByteStream(Protocol):
    """What the readers need of a stream: ``read``. Every ``BinaryIO`` is one."""

    def read(self, size: int = -1, /) -> bytes: ...


def iter_blocks(stream: ByteStream, size: int = BLOCK_SIZE) -> Iterator[bytes]:
    """The stream as UTF-8 blocks: a UTF-8 BOM dropped, UTF-16 (by its BOM) transcoded."""
    first = stream.read(size)
    if first.startswith(_BOM):
        first = first[len(_BOM) :]
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


class _Splitter:
    """The state between blocks: the unfinished last line and where it starts.

    :meth:`feed` and :meth:`finish` return the :class:`LineBatch` of the lines they
    complete, with the Skips of the lines too long to keep.
    """

    def __init__(self, source: str, max_line: int, offset: int = 0) -> None:
        self.source = source
        self.max_line = max_line
        self.carry = b""
        self.offset = offset  # of carry
        self.number = 1  # of carry's line
        self.discarding = False  # carry's line is too long: its bytes are dropped

    def feed(self, block: bytes) -> LineBatch:
        data = self.carry + block if self.carry else block
        pieces = data.split(b"\n")
        self.carry = pieces.pop()
        if self.discarding and pieces:  # the end of a line too long to keep
            self.offset += len(pieces[0]) + 1
            self.number += 1
            self.discarding = False
            del pieces[0]
        blank = _BLANK_FIRST.match(data) is not None or _BLANK_LINE.search(data) is not None
        lines = self._lines(pieces, blank, b"\r" in data)
        if self.discarding or len(self.carry) > self.max_line:
            if not self.discarding:
                lines.skipped.append(self._too_long(self.number))
                self.discarding = True
            self.offset += len(self.carry)
            self.carry = b""
        return lines

    def finish(self) -> LineBatch:
        """The last line, when the stream does not end with an end of line."""
        carry, self.carry = self.carry, b""
        return self._lines([carry], True, True) if carry else LineBatch()

    def _lines(self, pieces: list[bytes], blank: bool, cr: bool) -> LineBatch:
        """``pieces`` (whole lines from the carry on) but blank and too long ones.

        Each line is looked at in Python only where the block needs it: when it may
        hold a blank line (``blank``), a carriage return (``cr``) or a line too long.
        """
        lengths = list(map(len, pieces))
        offsets = list(accumulate(map((1).__add__, lengths), initial=self.offset))
        numbers: Sequence[int] = range(self.number, self.number + len(pieces))
        self.offset = offsets.pop()
        self.number += len(pieces)
        skipped: list[Skip] = []
        too_long = bool(lengths) and max(lengths) > self.max_line
        if blank or too_long:
            keep = []
            for index, piece in enumerate(pieces):
                if lengths[index] > self.max_line:
                    skipped.append(self._too_long(numbers[index]))
                elif piece.strip():
                    keep.append(index)
            pieces = [pieces[index] for index in keep]
            offsets = [offsets[index] for index in keep]
            numbers = [numbers[index] for index in keep]
        if cr:
            pieces = [piece[:-1] if piece.endswith(b"\r") else piece for piece in pieces]
        return LineBatch(pieces, offsets, list(numbers), skipped)

    def _too_long(self, number: int) -> Skip:
        return Skip(self.source, f"line {number}", f"line longer than {self.max_line} bytes")


def _split(blocks: Iterable[bytes], splitter: _Splitter) -> Iterator[LineBatch]:
    yield from map(splitter.feed, blocks)
    yield splitter.finish()


def iter_lines(
    stream: ByteStream, source: str, batch_size: int, max_line: int = MAX_LINE
) -> Iterator[LineBatch]:
    """Batches of the stream's non-blank lines, with 0-based byte offsets and 1-based numbers."""
    return line_batches(iter_blocks(stream), source, batch_size, max_line)


def line_batches(
    blocks: Iterable[bytes], source: str, batch_size: int, max_line: int = MAX_LINE
) -> Iterator[LineBatch]:
    """:func:`iter_lines` over blocks already made UTF-8."""
    batch_size = max(1, batch_size)
    batch = LineBatch()
    for lines in _split(blocks, _Splitter(source, max_line)):
        batch.skipped += lines.skipped
        start = 0
        while start < len(lines.lines):
            end = start + batch_size - len(batch.lines)
            batch.lines += lines.lines[start:end]
            batch.offsets += lines.offsets[start:end]
            batch.numbers += lines.numbers[start:end]
            start = end
            if len(batch.lines) >= batch_size:
                yield batch
                batch = LineBatch()
    if batch.lines or batch.skipped:
        yield batch


@dataclass(slots=True)
class LineFrame:
    """Up to ``batch_size`` non-blank lines of text and where they start.

    ``frame`` has the columns ``line`` (text, end of line removed, invalid UTF-8
    replaced), ``number`` (1-based) and ``offset`` (bytes from the start of the stream).
    """

    frame: pl.DataFrame
    skipped: list[Skip] = field(default_factory=list)


def read_line_frames(
    stream: ByteStream, source: str, batch_size: int, *, max_line: int = MAX_TEXT_LINE
) -> Iterator[LineFrame]:
    """The lines of ``stream`` as text, in frames of ``batch_size`` lines (see the module)."""
    blocks, offset = _without_bom(iter(partial(stream.read, BLOCK_SIZE), b""))
    frames: list[pl.DataFrame] = []
    count = 0
    skipped: list[Skip] = []
    for lines in _split(blocks, _Splitter(source, max_line, offset)):
        skipped += lines.skipped
        if lines.lines:
            frame = _text_frame(lines)
            frames.append(frame)
            count += frame.height
        while count >= batch_size:
            rest = pl.concat(frames, rechunk=True)  # one chunk: faster, and safer in Polars
            yield LineFrame(rest.head(batch_size), skipped)
            frames, skipped = [rest.slice(batch_size)], []
            count -= batch_size
    if count or skipped:
        frame = pl.concat(frames, rechunk=True) if frames else _text_frame(LineBatch())
        yield LineFrame(frame, skipped)


def _without_bom(blocks: Iterator[bytes]) -> tuple[Iterator[bytes], int]:
    """``blocks`` less a UTF-8 BOM at the start, and the offset of what follows."""
    head = b""
    for block in blocks:
        head += block
        if len(head) >= len(_BOM):
            break
    if head.startswith(_BOM):
        return chain([head[len(_BOM) :]], blocks), len(_BOM)
    return chain([head], blocks), 0


def _text_frame(lines: LineBatch) -> pl.DataFrame:
    """The lines as text (invalid UTF-8 replaced) but those of Unicode blanks only."""
    try:
        text = pl.Series("line", lines.lines, dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.ComputeError:  # "invalid utf8"
        decoded = [line.decode("utf-8", "replace") for line in lines.lines]
        text = pl.Series("line", decoded, dtype=pl.String)
    frame = pl.DataFrame(
        [
            text,
            pl.Series("number", lines.numbers, dtype=pl.Int64),
            pl.Series("offset", lines.offsets, dtype=pl.Int64),
        ]
    )
    return frame.filter(pl.col("line").str.contains(r"\S"))


def sample_lines(head: bytes, limit: int = SNIFF_LINES) -> list[str]:
    """The first complete, non-blank lines of ``head`` (a cut last line is left out)."""
    head = head.removeprefix(_BOM)
    lines = head.split(b"\n")
    if len(head) >= 65536 and len(lines) > 1:
        lines.pop()
    texts = [line.rstrip(b"\r").decode("utf-8", "replace") for line in lines[: limit * 4]]
    return [text for text in texts if text.strip()][:limit]

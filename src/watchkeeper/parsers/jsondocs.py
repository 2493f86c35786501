"""JSON documents, one per line: JSON lines, arrays, or objects written over several lines.

:func:`iter_json_documents` hands each document on as one line of bytes with the
offset and line number where it starts, in the batches of :mod:`.lines`, whatever
the layout of the file; the Windows JSON parsers read them with orjson or Polars.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from itertools import chain
from typing import BinaryIO

from watchkeeper.events.model import Skip
from watchkeeper.parsers.lines import MAX_LINE, LineBatch, iter_blocks, line_batches

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
        yield from line_batches(chain([first], blocks), source, batch_size, max_document)
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

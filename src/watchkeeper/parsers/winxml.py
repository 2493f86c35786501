"""Windows event XML: ``<Event>`` elements as written by ``wevtutil qe /f:xml``, EVTXtract…

The stream is cut into ``<Event>…</Event>`` elements by a byte scan, and each is
parsed on its own. A whole-document parser would stop at the first broken element
and lose the rest of the file; this way a broken or truncated element is one Skip
(with its line) and the next element is read. Wrappers (``<Events>``, EVTXtract's
``<record>``) and anything between elements are ignored. UTF-16 files are
transcoded to UTF-8 first; offsets then count UTF-8 bytes.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from watchkeeper.events.model import Skip
from watchkeeper.parsers.base import DEFAULT_BATCH_SIZE, ParsedChunk, Parser
from watchkeeper.parsers.lines import iter_blocks
from watchkeeper.parsers.windows import windows_frame
from watchkeeper.parsers.winfields import FlatEvent, xml_event

MAX_ELEMENT = 16 << 20
"""An element longer than this is skipped rather than held in memory."""

_START = re.compile(rb"<Event[\s>/]")
_END = re.compile(rb"</Event\s*>")


def _head_text(head: bytes) -> bytes:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", "replace").encode("utf-8")
    return head.removeprefix(codecs.BOM_UTF8)


@dataclass(slots=True)
class _Batch:
    events: list[FlatEvent] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)
    originals: list[str] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)


class WinXmlParser(Parser):
    """One or many Windows ``<Event>`` XML elements."""

    name = "winxml"
    description = "Windows event XML (wevtutil /f:xml, EVTXtract, Get-WinEvent ToXml)"

    @classmethod
    def sniff(cls, head: bytes, filename: str) -> int:
        text = _head_text(head).lstrip()
        if not text.startswith(b"<") or not _START.search(text):
            return 0
        if b"schemas.microsoft.com/win/2004/08/events/event" in text:
            return 95
        return 80 if b"<System>" in text else 0

    def parse(
        self, stream: BinaryIO, source: str, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[ParsedChunk]:
        batch = _Batch()
        for item in iter_elements(stream, source):
            if isinstance(item, Skip):
                batch.skipped.append(item)
                continue
            offset, line, data = item
            try:
                event = xml_event(data)
            except ValueError as exc:
                batch.skipped.append(Skip(source, f"line {line}", str(exc)))
                continue
            batch.events.append(event)
            batch.offsets.append(offset)
            batch.lines.append(line)
            if self.keep_original:
                batch.originals.append(data.decode("utf-8", "replace"))
            if len(batch.events) >= batch_size:
                yield self._chunk(batch, source)
                batch = _Batch()
        if batch.events or batch.skipped:
            yield self._chunk(batch, source)

    def _chunk(self, batch: _Batch, source: str) -> ParsedChunk:
        originals = batch.originals if self.keep_original else None
        frame = windows_frame(batch.events, source, batch.offsets, batch.lines, originals)
        return ParsedChunk(frame, batch.skipped)


def iter_elements(stream: BinaryIO, source: str) -> Iterator[tuple[int, int, bytes] | Skip]:
    """``(offset, line, bytes)`` of each ``<Event>`` element, or a Skip for a broken one."""
    buf = b""
    base = 0  # absolute offset of buf[0]
    line_pos, line_no = 0, 1  # buf[line_pos] is on line line_no
    pos = 0
    blocks = iter_blocks(stream)
    eof = False
    while True:
        start = _START.search(buf, pos)
        end = _END.search(buf, start.end()) if start else None
        if start:
            following = _START.search(buf, start.end(), end.start() if end else len(buf))
            line_no += buf.count(b"\n", line_pos, start.start())
            line_pos = start.start()
            line = line_no
            where = f"line {line}"
            if following:
                yield Skip(source, where, "unterminated <Event> element (another one starts)")
                pos = following.start()
                continue
            if end:
                yield base + start.start(), line, buf[start.start():end.end()]
                pos = end.end()
                continue
            if len(buf) - start.start() > MAX_ELEMENT:
                yield Skip(source, where, f"<Event> element longer than {MAX_ELEMENT} bytes")
                pos = start.end()
                continue
            if eof:
                yield Skip(source, where, "truncated <Event> element: the input ends inside it")
                return
        elif eof:
            return
        # Drop what is consumed (keep a partial start tag), then read on.
        keep = start.start() if start else max(pos, len(buf) - 6)
        if line_pos < keep:
            line_no += buf.count(b"\n", line_pos, keep)
            line_pos = keep
        line_pos -= keep
        base += keep
        buf = buf[keep:]
        pos = max(0, pos - keep)
        block = next(blocks, None)
        if block is None:
            eof = True
        else:
            buf += block


PARSERS: list[type[Parser]] = [WinXmlParser]

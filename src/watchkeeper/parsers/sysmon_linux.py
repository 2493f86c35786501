"""Sysmon for Linux: syslog lines whose message is an ``<Event>…</Event>`` XML document.

Sysmon for Linux writes the same event schema as Sysmon for Windows, so the event
goes through the Windows XML flattening and Sigma rules for ``product: linux``
with Sysmon categories address the same field names. Lines of ``journalctl -o
json`` (the XML in ``MESSAGE``) are read too. Lines from other programs, common in
a shared ``/var/log/syslog``, are not errors: they are counted and reported once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import orjson

from watchkeeper.events.model import Skip
from watchkeeper.parsers.base import DEFAULT_BATCH_SIZE, ParsedChunk, Parser
from watchkeeper.parsers.lines import iter_lines
from watchkeeper.parsers.windows import windows_frame
from watchkeeper.parsers.winfields import FlatEvent, xml_event

DATASET_NAME = "linux.sysmon"
_PROVIDER = b'Name="Linux-Sysmon"'


def _message(line: bytes) -> bytes:
    """The part of a line that should hold the event: MESSAGE of a journald JSON line."""
    if line.startswith(b"{"):
        try:
            document = orjson.loads(line)
        except orjson.JSONDecodeError:
            return line
        message = document.get("MESSAGE") if isinstance(document, dict) else None
        if isinstance(message, str):
            return message.encode()
    return line


def _element(line: bytes) -> bytes | None:
    """The ``<Event>`` element of a line; None if there is none; ValueError if it is cut."""
    start = line.find(b"<Event>")
    if start < 0:
        start = line.find(b"<Event ")
    if start < 0:
        return None
    end = line.find(b"</Event>", start)
    if end < 0:
        raise ValueError("truncated <Event> element: the line ends inside it")
    return line[start:end + len(b"</Event>")]


class SysmonLinuxParser(Parser):
    """Sysmon for Linux events in syslog (or journald JSON) lines."""

    name = "sysmon-linux"
    description = "Sysmon for Linux events in syslog lines"

    @classmethod
    def sniff(cls, head: bytes, filename: str) -> int:
        if b"<Event>" not in head or b"Linux-Sysmon" not in head:
            return 0
        return 95 if _PROVIDER in head or b'Name=\\"Linux-Sysmon\\"' in head else 70

    def parse(
        self, stream: BinaryIO, source: str, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[ParsedChunk]:
        ignored = 0
        first_ignored = 0
        for batch in iter_lines(stream, source, batch_size):
            events: list[FlatEvent] = []
            offsets: list[int] = []
            lines: list[int | None] = []
            originals: list[str] = []
            skipped = batch.skipped
            for line, offset, number in zip(batch.lines, batch.offsets, batch.numbers,
                                            strict=True):
                try:
                    element = _element(_message(line))
                    if element is None:
                        ignored += 1
                        first_ignored = first_ignored or number
                        continue
                    event = xml_event(element)
                except ValueError as exc:
                    skipped.append(Skip(source, f"line {number}", str(exc)))
                    continue
                events.append(event)
                offsets.append(offset)
                lines.append(number)
                if self.keep_original:
                    originals.append(line.decode("utf-8", "replace"))
            frame = windows_frame(events, source, offsets, lines,
                                  originals if self.keep_original else None, DATASET_NAME)
            yield ParsedChunk(frame, skipped)
        if ignored:
            reason = f"{ignored} line(s) without a Sysmon <Event> were ignored"
            yield ParsedChunk(windows_frame([], source, [], dataset=DATASET_NAME),
                              [Skip(source, f"line {first_ignored}", reason)])


PARSERS: list[type[Parser]] = [SysmonLinuxParser]

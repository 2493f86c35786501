"""AWS CloudTrail: the ``{"Records": [...]}`` files CloudTrail writes to S3, and JSON lines.

Each record is one event, flattened with dots as Sigma's ``aws`` rules address it:
``eventName``, ``eventSource``, ``userIdentity.type``, ``userIdentity.arn``,
``requestParameters.userName``, ``responseElements.ConsoleLogin``, ``errorCode``…;
lists (``resources``, ``requestParameters.ipPermissions.items``…) stay whole, as
compact JSON. ``@timestamp`` comes from ``eventTime``. Dataset ``aws.cloudtrail``.

A file whose first line is a whole JSON object is read as JSON lines (one record, or
one ``{"Records": [...]}`` document, per line). Anything else is read as a sequence of
JSON documents (the S3 files, pretty-printed exports), streamed: the ``Records`` array
is read one record at a time, so memory is bounded by the largest record
(:data:`MAX_RECORD`, 8 Mi characters), not by the file. A top-level document other than
a leading ``{"Records": [`` (e.g. ``Records`` as a later key) is read whole, within the
same bound.

Bad input: a record that is not JSON, is cut short or is over the bound is skipped as
``record N`` (N counts the array's elements and the top-level documents); reading then
resumes at the next ``{"eventVersion"`` inside a ``Records`` array, or at the next line
outside one. A JSON lines file reports ``line N`` instead, as the other line formats do.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar

import orjson

from watchkeeper.events.model import Skip
from watchkeeper.parsers.base import DEFAULT_BATCH_SIZE, ParsedChunk, Parser
from watchkeeper.parsers.jsonlines import (
    FieldColumns,
    JsonLinesParser,
    Record,
    RecordError,
    load_object,
    sample_objects,
    windows_json,
)
from watchkeeper.parsers.lines import BLOCK_SIZE, ByteStream

MAX_RECORD = 8 << 20
"""Largest record (or whole non-streamed document) read, in characters."""
RECORD_KEYS = frozenset({"eventVersion", "eventSource", "eventName"})

_WRAPPER = re.compile(r'\{\s*"Records"\s*:\s*\[')
_RECORD_START = re.compile(r'\{\s*"eventVersion"')
_NON_SPACE = re.compile(r"[^ \t\r\n]")
_SURROGATE = re.compile(r"\\u[dD][89abAB]")
_NEWLINE = re.compile(r"\n")


def records_of(document: Record) -> list[Record]:
    """The records of a document: its ``Records`` list, or the document itself."""
    inner = document.get("Records")
    if isinstance(inner, list):
        return [item for item in inner if isinstance(item, dict)]
    return [document]


class _Prefixed:
    """A stream whose first bytes were read already (to choose how to read the rest)."""

    def __init__(self, head: bytes, stream: ByteStream) -> None:
        self.head = head
        self.stream = stream

    def read(self, size: int = -1, /) -> bytes:
        if not self.head:
            return self.stream.read(size)
        data, self.head = self.head, b""
        return data


class _Documents:
    """Reads JSON documents from a text buffer that is filled as needed.

    Positions are kept as character indexes into ``text``; byte offsets and line
    numbers are counted as the reading goes past them, each character once.
    """

    def __init__(self, stream: ByteStream) -> None:
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.json = json.JSONDecoder()
        self.text = ""
        self.pos = 0
        self.eof = False
        self.mark = 0  # index up to which offsets are counted
        self.mark_offset = 0
        self.mark_line = 1

    def more(self) -> bool:
        """Read one more block (dropping the text already passed); False at the end."""
        if self.eof:
            return False
        self.where()
        self.text, self.pos, self.mark = self.text[self.mark :], self.pos - self.mark, 0
        block = self.stream.read(BLOCK_SIZE)
        self.eof = not block
        self.text += self.decoder.decode(block, final=self.eof)
        return True

    def where(self) -> tuple[int, int]:
        """Byte offset and line number of ``pos``."""
        passed = self.text[self.mark : self.pos]
        self.mark_offset += len(passed.encode("utf-8", "surrogatepass"))
        self.mark_line += passed.count("\n")
        self.mark = self.pos
        return self.mark_offset, self.mark_line

    def peek(self, need: int = 1) -> str:
        """The next non-blank characters (at least ``need`` unless the text ends)."""
        while True:
            found = _NON_SPACE.search(self.text, self.pos)
            self.pos = found.start() if found is not None else len(self.text)
            if len(self.text) - self.pos >= need or not self.more():
                return self.text[self.pos : self.pos + need]

    def value(self) -> tuple[Any, str]:
        """The JSON value at ``pos`` and its text; ``pos`` moves past it.

        Raises :class:`RecordError` for a value that is not JSON, is cut short by the
        end of the stream, or is larger than :data:`MAX_RECORD`.
        """
        while True:
            try:
                value, end = self.json.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as error:
                cut = error.pos >= len(self.text) - 8 or error.msg.startswith("Unterminated")
                if cut and len(self.text) - self.pos <= MAX_RECORD and self.more():
                    continue
                if cut and not self.eof:
                    raise RecordError(f"record larger than {MAX_RECORD} characters") from None
                reason = "truncated" if cut else "invalid JSON"
                raise RecordError(
                    f"{reason}: {error.msg} (character {error.pos - self.pos} of the record)"
                ) from None
            text = self.text[self.pos : end]
            self.pos = end
            if _SURROGATE.search(text):  # orjson refuses lone surrogates; Polars would too
                try:
                    value = orjson.loads(text)
                except orjson.JSONDecodeError as error:
                    raise RecordError(f"invalid JSON: {error}") from None
            return value, text

    def skip_to(self, pattern: re.Pattern[str]) -> bool:
        """Move to the next match of ``pattern`` after ``pos``; False at the end."""
        start = self.pos + 1
        while True:
            found = pattern.search(self.text, min(start, len(self.text)))
            if found is not None:
                self.pos = found.start()
                return True
            self.pos = max(start, len(self.text) - 64)  # keep a tail where a match may begin
            if not self.more():
                self.pos = len(self.text)
                return False
            start = self.pos


class CloudTrailParser(JsonLinesParser):
    """AWS CloudTrail records, from S3 record files or JSON lines."""

    name: ClassVar[str] = "cloudtrail"
    description: ClassVar[str] = "AWS CloudTrail record files and JSON lines"
    dataset: ClassVar[str] = "aws.cloudtrail"
    time_field: ClassVar[str] = "eventTime"

    @classmethod
    def sniff(cls, head: bytes, filename: str) -> int:
        text = head.lstrip()
        if _WRAPPER.match(text.decode("utf-8", "replace")[:64]):
            return 95 if b'"eventVersion"' in head or b"]" in text[:64] else 70
        objects = sample_objects(head)
        if objects:
            if windows_json(objects):
                return 0
            records = [record for obj in objects for record in records_of(obj)]
            return 95 if all(record.keys() >= RECORD_KEYS for record in records) else 0
        if text.startswith(b"{") and all(b'"%s"' % key.encode() in head for key in RECORD_KEYS):
            return 80  # a pretty-printed record
        return 0

    def events(self, line: str) -> list[Record]:
        return records_of(load_object(line))

    def parse(
        self, stream: BinaryIO, source: str, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[ParsedChunk]:
        head = b""  # the first line, to choose how to read; a pipe may give it in pieces
        while b"\n" not in head and len(head) < BLOCK_SIZE and (block := stream.read(BLOCK_SIZE)):
            head += block
        joined = _Prefixed(head, stream)
        first_line = head.split(b"\n", 1)[0] if b"\n" in head else b""
        try:
            load_object(first_line)
        except RecordError:
            yield from self._parse_documents(_Documents(joined), source, batch_size)
        else:
            yield from self.parse_lines(joined, source, batch_size, self.events)

    def _parse_documents(
        self, reader: _Documents, source: str, batch_size: int
    ) -> Iterator[ParsedChunk]:
        """Records of a sequence of JSON documents, ``Records`` arrays streamed."""
        batch: list[tuple[Record, int, int, str]] = []
        skipped: list[Skip] = []
        number = 0
        in_array = False
        while True:
            while len(batch) >= batch_size:
                yield self._document_chunk(batch[:batch_size], source, skipped)
                batch, skipped = batch[batch_size:], []
            char = reader.peek()
            if not char:
                break
            if not in_array:
                reader.peek(64)  # enough text to see a ``{"Records": [`` opening
                opening = _WRAPPER.match(reader.text, reader.pos)
                if opening is not None:
                    reader.pos = opening.end()
                    in_array = True
                    continue
            if in_array and char in ",]":
                reader.pos += 1
                if char == "]":
                    in_array = False
                    if reader.peek() == "}":
                        reader.pos += 1
                continue
            number += 1
            offset, line = reader.where()
            try:
                value, text = reader.value()
            except RecordError as error:
                skipped.append(Skip(source, f"record {number}", str(error)))
                if not reader.skip_to(_RECORD_START if in_array else _NEWLINE):
                    break
                continue
            if not isinstance(value, dict):
                reason = f"a JSON {type(value).__name__}, not an object"
                skipped.append(Skip(source, f"record {number}", reason))
                continue
            for record in records_of(value) if not in_array else [value]:
                batch.append((record, offset, line, text))
        if batch or skipped:
            yield self._document_chunk(batch, source, skipped)

    def _document_chunk(
        self, batch: list[tuple[Record, int, int, str]], source: str, skipped: list[Skip]
    ) -> ParsedChunk:
        fields = FieldColumns()
        for record, _, _, _ in batch:
            fields.add(record)
        originals = [text for _, _, _, text in batch] if self.keep_original else None
        frame = self.build_frame(
            fields,
            source,
            [offset for _, offset, _, _ in batch],
            [line for _, _, line, _ in batch],
            originals,
        )
        return ParsedChunk(frame, skipped)


PARSERS: list[type[Parser]] = [CloudTrailParser]

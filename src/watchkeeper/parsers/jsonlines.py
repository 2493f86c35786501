"""Formats of one JSON object per line, and the flattening every JSON format shares.

:class:`JsonLinesParser` reads, flattens, batches and times the records of a JSON
lines format (Suricata EVE, Zeek JSON, CloudTrail); a subclass says which field
holds the time and may turn a line into several records.

Nested objects are flattened with dots, as Sigma rules and the formats' own
documentation name their fields (``alert.signature``, ``userIdentity.arn``,
``id.orig_h``), and lists stay whole: :func:`flatten` gives the values as they are,
:class:`FieldColumns` writes them as text
(:func:`~watchkeeper.events.model.stringify`) straight into columns; the Windows JSON
formats use it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, BinaryIO, ClassVar

import orjson
import polars as pl

from watchkeeper.events.model import DATASET, TIMESTAMP, Skip, stringify
from watchkeeper.parsers.base import DEFAULT_BATCH_SIZE, ParsedChunk, Parser
from watchkeeper.parsers.frames import Ints, Texts, frame_of, location_columns
from watchkeeper.parsers.lines import ByteStream, LineFrame, read_line_frames, sample_lines
from watchkeeper.parsers.times import epoch_or_iso

Record = dict[str, Any]
Events = Callable[[str], list[Record]]
"""Turns one line into its events (nested or flat objects), or raises :class:`RecordError`."""

WINDOWS_KEYS = frozenset({"Event", "EventID", "Channel", "@timestamp", "winlog"})
"""Top-level keys of Windows JSON exports (EVTX-JSON, winlogbeat, ECS): never ours."""


class RecordError(ValueError):
    """A line that holds no record of the format; the message is the reason to report."""


def flatten(obj: Mapping[str, Any], prefix: str = "", out: Record | None = None) -> Record:
    """Nested objects to one level, names joined with dots; lists and empty objects stay."""
    flat: Record = {} if out is None else out
    for key, value in obj.items():
        if isinstance(value, dict) and value:
            flatten(value, f"{prefix}{key}.", flat)
        else:
            flat[prefix + key] = value
    return flat


class FieldColumns:
    """Original-field columns filled event by event.

    Does what :func:`flatten` then :func:`~watchkeeper.events.model.frame_from_records`
    do, in one pass and without a dict per event: nested objects become dotted names,
    values become text (``stringify``), nulls are left out. A name given twice in one
    event keeps its last value. An empty object is the value ``{}`` unless ``empty``
    is false: then it is left out, as Polars' JSON reader leaves it.
    """

    def __init__(self, *, empty: bool = True) -> None:
        self.height = 0
        self.empty = empty
        self._rows: dict[str, list[int]] = {}
        self._texts: dict[str, list[str]] = {}

    def add(self, event: Mapping[str, Any]) -> None:
        self._add(event, "", self.height)
        self.height += 1

    def _add(self, obj: Mapping[str, Any], prefix: str, row: int) -> None:
        for key, value in obj.items():
            if value is None:
                continue
            kind = value.__class__
            if kind is str:
                text = value
            elif kind is int:  # the common cases inline; bool is its own class
                text = str(value)
            elif kind is dict and (value or not self.empty):
                self._add(value, f"{prefix}{key}.", row)
                continue
            else:
                text = stringify(value) or ""  # never None: None was left out above
            name = prefix + key if prefix else key
            rows = self._rows.get(name)
            if rows is None:
                self._rows[name] = [row]
                self._texts[name] = [text]
            elif rows[-1] == row:
                self._texts[name][-1] = text
            else:
                rows.append(row)
                self._texts[name].append(text)

    def frame(self) -> pl.DataFrame:
        """The columns, ``height`` rows each (null where an event lacks the field)."""
        columns = []
        for name, rows in self._rows.items():
            texts = pl.Series(name, self._texts[name], dtype=pl.String)
            if len(rows) < self.height:
                empty = pl.repeat(None, self.height, dtype=pl.String, eager=True).alias(name)
                texts = empty.scatter(rows, texts)
            columns.append(texts)
        return frame_of(columns, self.height)


def load_object(line: str | bytes) -> Record:
    """One JSON object, or :class:`RecordError` saying why not."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        raise RecordError(f"invalid JSON: {error}") from None
    if not isinstance(value, dict):
        raise RecordError(f"a JSON {type(value).__name__}, not an object")
    return value


def sample_objects(head: bytes, limit: int = 10) -> list[Record]:
    """The JSON objects among the first lines of ``head``; empty unless most lines are.

    A broken line or two (a corrupt record) does not hide the format of the rest.
    """
    lines = sample_lines(head, limit)
    objects = []
    for line in lines:
        try:
            objects.append(load_object(line))
        except RecordError:
            continue
    return objects if len(objects) * 2 > len(lines) else []


def windows_json(objects: Iterable[Record]) -> bool:
    """Whether any of ``objects`` is a Windows event (see :data:`WINDOWS_KEYS`)."""
    return any(WINDOWS_KEYS & obj.keys() for obj in objects)


class JsonLinesParser(Parser):
    """A format of one JSON object per line: read, flattened, batched, timed.

    Subclasses set ``dataset`` and ``time_field`` (an original field holding epoch
    seconds or ISO 8601) and may override :meth:`events`. A record may set the
    ``event.dataset`` key itself (Zeek, whose logs differ line by line).
    """

    dataset: ClassVar[str]
    time_field: ClassVar[str]

    def events(self, line: str) -> list[Record]:
        return [load_object(line)]

    def parse(
        self, stream: BinaryIO, source: str, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[ParsedChunk]:
        return self.parse_lines(stream, source, batch_size, self.events)

    def parse_lines(
        self, stream: ByteStream, source: str, batch_size: int, events: Events
    ) -> Iterator[ParsedChunk]:
        """Batches of the events ``events`` makes of each line of ``stream``."""
        for batch in read_line_frames(stream, source, batch_size):
            chunk = self._chunk(batch, source, events)
            for start in range(0, max(chunk.frame.height, 1), batch_size):
                skipped = chunk.skipped if start == 0 else []
                yield ParsedChunk(chunk.frame.slice(start, batch_size), skipped)

    def _chunk(self, batch: LineFrame, source: str, events: Events) -> ParsedChunk:
        fields = FieldColumns()
        rows: list[int] = []
        skipped = list(batch.skipped)
        numbers = batch.frame["number"].to_list()
        for row, line in enumerate(batch.frame["line"].to_list()):
            try:
                found = events(line)
            except RecordError as error:
                skipped.append(Skip(source, f"line {numbers[row]}", str(error)))
                continue
            for event in found:
                fields.add(event)
            rows += [row] * len(found)
        lines = batch.frame[rows]
        originals = lines["line"] if self.keep_original else None
        frame = self.build_frame(fields, source, lines["offset"], lines["number"], originals)
        return ParsedChunk(frame, skipped)

    def build_frame(
        self,
        fields: FieldColumns,
        source: str,
        offsets: Ints,
        numbers: Ints,
        originals: Texts | None,
    ) -> pl.DataFrame:
        """The batch: original fields, then the reserved columns."""
        frame = fields.frame()
        if self.time_field in frame.columns:
            stamps = epoch_or_iso(pl.col(self.time_field))
        else:
            stamps = pl.lit(None, pl.Datetime("us", "UTC"))
        if DATASET in frame.columns:
            dataset = pl.col(DATASET).fill_null(self.dataset)
        else:
            dataset = pl.lit(self.dataset, pl.String)
        frame = frame.with_columns(location_columns(source, offsets, numbers, originals))
        return frame.with_columns(stamps.alias(TIMESTAMP), dataset.alias(DATASET))

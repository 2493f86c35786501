"""Windows and Elastic events as JSON: lines, arrays, or pretty-printed objects.

Three parsers share the framing of :func:`~watchkeeper.parsers.jsondocs.iter_json_documents`:

* ``evtx-json``: the nested EVTX layout (``{"Event": {"System": …}}``) of ``evtx_dump``
  and the ``evtx`` package, flattened like EVTX itself (:mod:`.winfields`).
* ``winlog-json``: flat Windows events (nxlog, Zircolite-style exports: top-level
  ``EventID``, ``Channel``, ``Image``…) and winlogbeat documents (``winlog.*``).
* ``ecs-json``: Elastic Common Schema documents (Elastic Agent, Elastic Defend),
  also as Elasticsearch hits (``_source``).

The last two read their documents as text columns with :func:`~.jsonframe.json_frame`
(Polars' reader for flat documents), then rename winlogbeat's ``winlog.*`` names to
Sigma's (``winlog.event_data.Image`` → ``Image``, ``winlog.event_id`` → ``EventID``…).
A document's own ``@timestamp`` and ``event.dataset`` feed the reserved columns;
its ``log.file.path``, ``log.offset`` and ``event.original`` give way to the reader's.
"""
from __future__ import annotations

import io
from abc import abstractmethod
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, BinaryIO, ClassVar

import orjson
import polars as pl

from watchkeeper.events.model import DATASET, ORIGINAL, TIMESTAMP, Skip
from watchkeeper.parsers.base import DEFAULT_BATCH_SIZE, ParsedChunk, Parser
from watchkeeper.parsers.frames import frame_of, location_columns
from watchkeeper.parsers.jsondocs import iter_json_documents, json_layout
from watchkeeper.parsers.jsonframe import (
    BOMS,
    LearnedSchema,
    decode_json,
    json_frame,
    line_texts,
)
from watchkeeper.parsers.lines import LineBatch, iter_blocks
from watchkeeper.parsers.times import parse_times
from watchkeeper.parsers.windows import datasets, windows_frame
from watchkeeper.parsers.winfields import FlatEvent, flatten_json

WINLOG_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "winlog.event_id": "EventID",
        "winlog.channel": "Channel",
        "winlog.provider_name": "Provider_Name",
        "winlog.provider_guid": "Provider_Guid",
        "winlog.computer_name": "Computer",
        "winlog.record_id": "EventRecordID",
        "winlog.process.pid": "ProcessID",
        "winlog.process.thread.id": "ThreadID",
        "winlog.user.identifier": "UserID",
        "winlog.version": "Version",
    }
)
"""winlogbeat's names for the System fields, renamed to the names Sigma rules use.

``winlog.task``, ``winlog.opcode`` and ``winlog.keywords`` keep their names: winlogbeat
writes the display names there, not the numbers EVTX gives ``Task``/``Opcode``/``Keywords``.
"""
WINLOG_PREFIXES = ("winlog.event_data.", "winlog.user_data.")
"""Prefixes dropped, so that ``winlog.event_data.Image`` is read as ``Image``."""
NXLOG_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "Hostname": "Computer",
        "SourceName": "Provider_Name",
        "ProviderGuid": "Provider_Guid",
        "RecordNumber": "EventRecordID",
    }
)
"""nxlog's names for System fields (``winlog-json`` only)."""
WINLOG_TIMES = ("@timestamp", "SystemTime", "TimeCreated.SystemTime", "TimeCreated",
                "EventTime", "UtcTime")
"""Where a flat Windows event keeps its time, by preference; times without zone are UTC."""
ECS_TIMES = ("@timestamp",)
ELASTIC_HIT_KEYS = ("_index", "_id", "_type", "_score", "_routing", "_ignored", "sort")


def _json_lines(payload: bytes) -> bool:
    """A payload of JSON lines with no byte order mark (it is dropped only at the start
    of a stream) and no Elasticsearch hits (recognised per batch: a batch with hits
    drops the hit keys of every document in it)."""
    return (not payload.startswith(BOMS) and json_layout(payload[:65536]) == "lines"
            and b'"_source"' not in payload)


def _first_document(head: bytes) -> dict[str, Any] | None:
    """The first JSON object of the head of a file, for sniffing; None when there is none."""
    text = b"".join(iter_blocks(io.BytesIO(head)))
    for batch in iter_json_documents(io.BytesIO(text), "", 1):
        for line in batch.lines:
            try:
                document = orjson.loads(line)
            except orjson.JSONDecodeError:
                return None
            if isinstance(document, dict):
                source = document.get("_source")
                return source if isinstance(source, dict) else document
        return None
    return None


class EvtxJsonParser(Parser):
    """Nested EVTX-JSON documents, as ``evtx_dump -o jsonl`` (or ``-o json``) writes them."""

    name = "evtx-json"
    description = "EVTX records as nested JSON (evtx_dump, the evtx package)"

    @classmethod
    def sniff(cls, head: bytes, filename: str) -> int:
        document = _first_document(head)
        event = document.get("Event") if document else None
        return 95 if isinstance(event, dict) and isinstance(event.get("System"), dict) else 0

    @classmethod
    def joinable(cls, payload: bytes) -> bool:
        return _json_lines(payload)

    def parse(
        self, stream: BinaryIO, source: str, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[ParsedChunk]:
        for batch in iter_json_documents(stream, source, batch_size):
            events: list[FlatEvent] = []
            offsets: list[int] = []
            lines: list[int | None] = []
            originals: list[str] = []
            for line, offset, number in zip(batch.lines, batch.offsets, batch.numbers,
                                            strict=True):
                try:
                    document = decode_json(line)
                except orjson.JSONDecodeError as exc:
                    batch.skipped.append(Skip(source, f"line {number}", f"bad JSON: {exc}"))
                    continue
                try:
                    if not isinstance(document, dict):
                        raise ValueError("not a JSON object")
                    events.append(flatten_json(document))
                except ValueError as exc:
                    reason = f"not an EVTX-JSON event: {exc}"
                    batch.skipped.append(Skip(source, f"line {number}", reason))
                    continue
                offsets.append(offset)
                lines.append(number)
                if self.keep_original:
                    originals.append(line.decode("utf-8", "replace"))
            frame = windows_frame(events, source, offsets, lines,
                                  originals if self.keep_original else None)
            yield ParsedChunk(frame, batch.skipped)


class _FlatJsonParser(Parser):
    """JSON documents whose original fields are their members, flattened with dots."""

    nxlog: ClassVar[bool] = False
    times: ClassVar[tuple[str, ...]] = ECS_TIMES
    default_dataset: ClassVar[str] = "json"

    @classmethod
    def sniff(cls, head: bytes, filename: str) -> int:
        document = _first_document(head)
        return cls.claim(document) if document else 0

    @classmethod
    def joinable(cls, payload: bytes) -> bool:
        return _json_lines(payload)

    @classmethod
    @abstractmethod
    def claim(cls, document: dict[str, Any]) -> int:
        """How sure this parser is of a file whose first document is ``document``."""

    def parse(
        self, stream: BinaryIO, source: str, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[ParsedChunk]:
        schemas = self.memory.get(self.name, "schema")
        if not isinstance(schemas, LearnedSchema):
            schemas = LearnedSchema()
            self.memory.put(self.name, "schema", schemas)
        # a stream in memory (the pipeline's) is read in one batch, as it is
        whole = (stream.getvalue() if isinstance(stream, io.BytesIO) and stream.tell() == 0
                 else None)
        for batch in iter_json_documents(stream, source, batch_size):
            texts = line_texts(batch.lines)
            frame = json_frame(batch, source, schemas, texts, whole)
            if texts.len() != len(batch.lines):  # bad lines were left out
                texts = line_texts(batch.lines)
            yield ParsedChunk(self._finish(frame, batch, source, texts), batch.skipped)

    def _finish(
        self, frame: pl.DataFrame, batch: LineBatch, source: str, texts: pl.Series
    ) -> pl.DataFrame:
        """Rename to Sigma's names, then add the reserved columns."""
        if any(name.startswith("_source.") for name in frame.columns):  # Elasticsearch hits
            frame = _without(frame, {name for name in frame.columns if name in ELASTIC_HIT_KEYS
                                     or name.startswith(("fields.", "highlight."))})
            frame = _rename(frame, {name: name.removeprefix("_source.")
                                    for name in frame.columns if name.startswith("_source.")})
        frame = _rename(frame, _renames(frame.columns, self.nxlog))
        height = len(batch.lines)
        timestamp = pl.Series(TIMESTAMP, [None] * height, dtype=pl.Datetime("us", "UTC"))
        for name in self.times:
            if name in frame.columns and timestamp.null_count():
                timestamp = timestamp.fill_null(parse_times(frame[name]))
        originals = texts if self.keep_original else None
        reserved = [
            timestamp.alias(TIMESTAMP),
            self._dataset(frame, height).alias(DATASET),
            *location_columns(source, batch.offsets, batch.numbers, originals),
        ]
        if frame.width == 0:
            frame = pl.DataFrame(height=height)
        if not self.keep_original:
            frame = _without(frame, {ORIGINAL})
        return frame.with_columns(reserved)

    def _dataset(self, frame: pl.DataFrame, height: int) -> pl.Series:
        """From the channel if there is one, else the document's own, else the default."""
        dataset = pl.Series(DATASET, [None] * height, dtype=pl.String)
        if "Channel" in frame.columns:
            dataset = datasets(frame["Channel"])
        for name in ("event.dataset", "data_stream.dataset"):
            if name in frame.columns and dataset.null_count():
                dataset = dataset.fill_null(frame[name])
        return dataset.fill_null(self.default_dataset)


def _renames(columns: list[str], nxlog: bool) -> dict[str, str]:
    renames: dict[str, str] = {}
    for name in columns:
        target = WINLOG_FIELDS.get(name)
        if target is None and nxlog:
            target = NXLOG_FIELDS.get(name)
        if target is None:
            for prefix in WINLOG_PREFIXES:
                if name.startswith(prefix):
                    target = name[len(prefix):]
                    break
        if target is not None and target != name:
            renames[name] = target
    return renames


def _rename(frame: pl.DataFrame, renames: dict[str, str]) -> pl.DataFrame:
    """Rename columns; where the new name is taken, keep the first non-null value."""
    if not renames:
        return frame
    targets = list(renames.values())
    clashes = {old: new for old, new in renames.items()
               if new in frame.columns or targets.count(new) > 1}
    frame = frame.rename({old: new for old, new in renames.items() if old not in clashes})
    for old, new in clashes.items():
        if new in frame.columns:
            merged = frame[new].fill_null(frame[old])
            frame = _without(frame, {old}).with_columns(merged.alias(new))
        else:
            frame = frame.rename({old: new})
    return frame


def _without(frame: pl.DataFrame, names: set[str]) -> pl.DataFrame:
    """``frame`` less the columns ``names``, taken literally.

    ``DataFrame.drop`` reads ``*`` and ``^…$`` as patterns, and field names come from the
    input: a document with a key ``"*"`` must not drop every column.
    """
    if not names & set(frame.columns):
        return frame
    return frame_of([column for column in frame.iter_columns() if column.name not in names],
                    frame.height)


class WinlogJsonParser(_FlatJsonParser):
    """Flat Windows events as JSON: nxlog, winlogbeat, flattened EVTX exports."""

    name = "winlog-json"
    description = "flat Windows event JSON (winlogbeat, nxlog, flattened exports)"
    nxlog = True
    times = WINLOG_TIMES
    default_dataset = "windows"

    @classmethod
    def claim(cls, document: dict[str, Any]) -> int:
        if isinstance(document.get("winlog"), dict) or "winlog.channel" in document:
            return 90
        if "EventID" in document and ({"Channel", "SourceName", "Provider_Name"} & document.keys()):
            return 85
        return 0


class EcsJsonParser(_FlatJsonParser):
    """Elastic Common Schema documents; original fields are the ECS names, with dots."""

    name = "ecs-json"
    description = "Elastic Common Schema JSON (Elastic Agent, Elastic Defend)"
    default_dataset = "ecs"

    @classmethod
    def claim(cls, document: dict[str, Any]) -> int:
        ecs = document.get("ecs")
        event = document.get("event")
        if (isinstance(ecs, dict) and "version" in ecs) or "ecs.version" in document:
            return 80
        if "@timestamp" in document and isinstance(event, dict) and (
            {"kind", "category", "dataset"} & event.keys()
        ):
            return 75
        return 0


PARSERS: list[type[Parser]] = [EvtxJsonParser, WinlogJsonParser, EcsJsonParser]

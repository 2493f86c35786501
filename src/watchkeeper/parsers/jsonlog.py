"""Windows and Elastic events as JSON: lines, arrays, or pretty-printed objects.

Three parsers share the framing of :func:`~watchkeeper.parsers.sources.iter_json_documents`:

* ``evtx-json``: the nested EVTX layout (``{"Event": {"System": …}}``) of ``evtx_dump``
  and the ``evtx`` package, flattened like EVTX itself (:mod:`.windows`).
* ``winlog-json``: flat Windows events (nxlog, Zircolite-style exports: top-level
  ``EventID``, ``Channel``, ``Image``…) and winlogbeat documents (``winlog.*``).
* ``ecs-json``: Elastic Common Schema documents (Elastic Agent, Elastic Defend),
  also as Elasticsearch hits (``_source``).

``winlog-json`` carries the benchmark's volume, so its batches are decoded by
Polars' NDJSON reader and reshaped with column expressions; only a batch the
reader rejects is looked at line by line, so that a bad line is reported with its
number and the good lines of the batch still go through the same reader.

Flattening rules (both paths): nested objects become dotted names, lists compact
JSON, numbers decimal text; winlogbeat's ``winlog.*`` names become Sigma's
(``winlog.event_data.Image`` → ``Image``, ``winlog.event_id`` → ``EventID``…). A
document's own ``@timestamp`` and ``event.dataset`` feed the reserved columns;
its ``log.file.path``, ``log.offset`` and ``event.original`` give way to the reader's.

Known differences of the reader for flat documents, in cases Windows logs do not
have: a field that is a list in one document and a string in another of the same
batch is kept as Polars writes the list (``[1, 2]``, with blanks); with a key repeated
in one object, Polars keeps the first value where orjson keeps the last.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, BinaryIO, ClassVar

import orjson
import polars as pl

from watchkeeper.events.model import (
    DATASET,
    LINE,
    OFFSET,
    ORIGINAL,
    SOURCE,
    TIMESTAMP,
    Skip,
    stringify,
)
from watchkeeper.parsers.base import DEFAULT_BATCH_SIZE, ParsedChunk, Parser
from watchkeeper.parsers.sources import LineBatch, iter_blocks, iter_json_documents
from watchkeeper.parsers.windows import (
    FlatEvent,
    datasets,
    flatten_json,
    frame_of,
    parse_times,
    windows_frame,
)

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
POLARS_ERRORS = (pl.exceptions.PolarsError, pl.exceptions.PanicException)
"""What Polars' reader raises for input it cannot take; a panic is a Polars bug met by
odd input, and the line-by-line reader still gets the events out."""
ELASTIC_HIT_KEYS = ("_index", "_id", "_type", "_score", "_routing", "_ignored", "sort")


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


def _decode(line: bytes) -> Any:
    """orjson.loads, forgiving invalid UTF-8 (replaced) rather than losing the event."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return orjson.loads(line.decode("utf-8", "replace"))
        raise


class EvtxJsonParser(Parser):
    """Nested EVTX-JSON documents, as ``evtx_dump -o jsonl`` (or ``-o json``) writes them."""

    name = "evtx-json"
    description = "EVTX records as nested JSON (evtx_dump, the evtx package)"

    @classmethod
    def sniff(cls, head: bytes, filename: str) -> int:
        document = _first_document(head)
        event = document.get("Event") if document else None
        return 95 if isinstance(event, dict) and isinstance(event.get("System"), dict) else 0

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
                    document = _decode(line)
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

    def parse(
        self, stream: BinaryIO, source: str, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[ParsedChunk]:
        for batch in iter_json_documents(stream, source, batch_size):
            frame = self._read(batch, source)
            yield ParsedChunk(self._finish(frame, batch, source), batch.skipped)

    def _read(self, batch: LineBatch, source: str) -> pl.DataFrame:
        """The documents of ``batch`` as string columns; bad lines move to ``batch.skipped``.

        Flat documents go to Polars' reader as they are. Nested ones (winlogbeat, ECS)
        are flattened with orjson first, lists and floats written by ``stringify``:
        Polars builds wide structs slowly (flat input reads at twice the speed even
        with the Python step), and with only strings and integers left it has no
        clashing types to coerce its own way.
        """
        if not batch.lines:
            return pl.DataFrame()
        if not _nested(batch.lines[0]):
            try:
                return _fast_frame(batch.lines)
            except POLARS_ERRORS:
                pass  # some line is bad, or the types clash: find out line by line
        flat_lines = _flat_lines(batch, source)
        try:
            return _fast_frame(flat_lines)
        except POLARS_ERRORS:  # not expected with strings and integers only; to be sure
            return _slow_frame([orjson.loads(line) for line in flat_lines])

    def _finish(self, frame: pl.DataFrame, batch: LineBatch, source: str) -> pl.DataFrame:
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
        reserved = [
            timestamp.alias(TIMESTAMP),
            self._dataset(frame, height).alias(DATASET),
            pl.lit(source, pl.String).alias(SOURCE),
            pl.Series(OFFSET, batch.offsets, dtype=pl.Int64),
            pl.Series(LINE, batch.numbers, dtype=pl.Int64),
        ]
        if self.keep_original:
            originals = [line.decode("utf-8", "replace") for line in batch.lines]
            reserved.append(pl.Series(ORIGINAL, originals, dtype=pl.String))
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


def _nested(line: bytes) -> bool:
    """Whether a document holds objects (a hint for the reader; both ways are right)."""
    return b'":{' in line or b'": {' in line


def _flat_lines(batch: LineBatch, source: str) -> list[bytes]:
    """Each document decoded, flattened and written again; bad lines move to ``skipped``."""
    good: list[int] = []
    flat_lines: list[bytes] = []
    for index, (line, number) in enumerate(zip(batch.lines, batch.numbers, strict=True)):
        try:
            document = _decode(line)
        except orjson.JSONDecodeError as exc:
            batch.skipped.append(Skip(source, f"line {number}", f"bad JSON: {exc}"))
            continue
        if not isinstance(document, dict):
            batch.skipped.append(Skip(source, f"line {number}", "not a JSON object"))
            continue
        good.append(index)
        flat_lines.append(orjson.dumps(_flat(document)))
    if len(good) < len(batch.lines):
        batch.lines = [batch.lines[index] for index in good]
        batch.offsets = [batch.offsets[index] for index in good]
        batch.numbers = [batch.numbers[index] for index in good]
    return flat_lines


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


def _fast_frame(lines: list[bytes]) -> pl.DataFrame:
    """Polars' NDJSON reader over the lines; nested objects flattened, everything a string.

    Columns are handled as Series, never through ``pl.col(name)``: a field name from the
    input may look like a wildcard or a regular expression to the expression engine.
    """
    frame = pl.read_ndjson(io.BytesIO(b"\n".join(lines)), infer_schema_length=None)
    columns: list[pl.Series] = []
    pending = list(frame.iter_columns())
    while pending:
        column = pending.pop(0)
        if isinstance(column.dtype, pl.Struct):
            prefix = column.name + "."
            pending[:0] = [field.alias(prefix + field.name)
                           for field in column.struct.unnest().iter_columns()]
        elif column.dtype != pl.Null:
            columns.append(_as_string(column))
    return frame_of(columns, frame.height)


def _as_string(column: pl.Series) -> pl.Series:
    """One column as :func:`~watchkeeper.events.model.stringify` would write its values."""
    dtype = column.dtype
    if dtype == pl.String:
        return column
    if dtype.is_integer() or dtype == pl.Boolean:
        return column.cast(pl.String)
    if dtype.is_float():
        whole = (column.is_finite() & (column == column.round(0)) & (column.abs() < 2.0**63))
        as_int = column.cast(pl.Int64, strict=False).cast(pl.String)
        return as_int.zip_with(whole.fill_null(False), column.cast(pl.String))
    # Lists: compact JSON, written by Polars as orjson writes it ({"v":…} then unwrapped).
    encoded = column.to_frame("v").to_struct().struct.json_encode().str.slice(5).str.head(-1)
    return encoded.scatter(column.is_null().arg_true(), None).alias(column.name)


def _flat(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document flattened; values other than strings and integers stringified."""
    flat: dict[str, Any] = {}
    _flatten(document, "", flat)
    return flat


def _flatten(document: Mapping[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in document.items():  # hot for nested documents: plain type tests
        kind = type(value)
        if kind is str or kind is int:
            out[prefix + key] = value
        elif kind is dict:
            _flatten(value, f"{prefix}{key}.", out)
        elif value is not None:
            out[prefix + key] = stringify(value)


def _slow_frame(documents: list[dict[str, Any]]) -> pl.DataFrame:
    """The same frame as :func:`_fast_frame`, built in Python, for batches Polars rejects."""
    columns: dict[str, list[str | None]] = {}
    for index, document in enumerate(documents):
        flat: dict[str, Any] = {}
        _flatten(document, "", flat)
        for key, value in flat.items():
            column = columns.get(key)
            if column is None:
                column = columns[key] = [None] * len(documents)
            column[index] = stringify(value)
    return frame_of(
        [pl.Series(name, values, dtype=pl.String) for name, values in columns.items()],
        len(documents),
    )


class WinlogJsonParser(_FlatJsonParser):
    """Flat Windows events as JSON: nxlog, winlogbeat, flattened EVTX exports."""

    name = "winlog-json"
    description = "flat Windows event JSON (winlogbeat, nxlog, flattened exports)"
    nxlog = True
    times = WINLOG_TIMES
    default_dataset = "windows"

    @classmethod
    def sniff(cls, head: bytes, filename: str) -> int:
        document = _first_document(head)
        if not document:
            return 0
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
    def sniff(cls, head: bytes, filename: str) -> int:
        document = _first_document(head)
        if not document:
            return 0
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

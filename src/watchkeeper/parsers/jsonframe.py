"""JSON documents as a frame of text columns, as the Windows JSON parsers read them.

A batch of flat documents goes to Polars' NDJSON reader and is reshaped with column
expressions (``winlog-json`` carries the benchmark's volume). A batch of nested
documents (winlogbeat, ECS), or one the reader rejects, is decoded line by line with
orjson and flattened by :class:`~.jsonlines.FieldColumns`: Polars builds wide structs
slowly, and line by line a bad line is reported with its number while the good lines
of its batch still go through.

Both ways write the values alike: nested objects become dotted names, lists compact
JSON, numbers decimal text; an empty object gives nothing. Known differences of the
reader, in cases Windows logs do not have: a field that is a list in one document and
a string in another of the same batch is kept as Polars writes the list (``[1, 2]``,
with blanks); with a key repeated in one object, Polars keeps the first value where
orjson keeps the last.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Mapping
from typing import Any

import orjson
import polars as pl

from watchkeeper.events.model import Skip
from watchkeeper.parsers.frames import frame_of
from watchkeeper.parsers.jsonlines import FieldColumns
from watchkeeper.parsers.lines import LineBatch

POLARS_ERRORS = (pl.exceptions.PolarsError, pl.exceptions.PanicException)
"""What Polars' reader raises for input it cannot take; a panic is a Polars bug met by
odd input, and the line-by-line reader still gets the events out."""


def json_frame(batch: LineBatch, source: str, schemas: LearnedSchema | None = None,
               texts: pl.Series | None = None, whole: bytes | None = None) -> pl.DataFrame:
    """The documents of ``batch`` as text columns; bad lines move to ``batch.skipped``.

    ``schemas`` and ``texts`` (the lines as text) make the read cheaper, see
    :class:`LearnedSchema`; so does ``whole``, the stream the lines were cut from, when it
    holds nothing else (see :func:`exactly_lines`): it is read as it is, not joined again."""
    if not batch.lines:
        return pl.DataFrame()
    if not _nested(batch.lines[0]):
        try:
            return polars_frame(batch.lines, schemas, texts, exactly_lines(whole, batch))
        except POLARS_ERRORS:
            pass  # some line is bad, or the types clash: find out line by line
    return python_frame(batch, source)


BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
"""Byte order marks: the reader drops or transcodes them, so the lines differ from the buffer."""
KEY = r'"(?:[^"\\]|\\.)*"\s*:'
"""A string followed by a colon: in a JSON document, a member's name."""
MAX_MISSES = 3
"""Reads with the learned schema that may find unknown names in a row before it is left
aside (tried again every ``RETRY_AFTER`` batches): a source whose documents keep changing
shape would otherwise be read twice per batch."""
RETRY_AFTER = 16
MAX_LEARNED = 2000
"""Names a learned schema holds at most: a read with thousands of names no event has
costs more than inferring the schema."""


class LearnedSchema:
    """The schema of a flat JSON format, learned from earlier batches, and a checked read
    with it.

    Polars' reader spends about a third of its time inferring the schema when it reads
    every line for it (as it must: a field seen only in the last line is still a field).
    With a schema given it skips that, but would drop a name the schema lacks without a
    word. So the read is checked: each line's member names are counted in its text
    (:data:`KEY`) and must equal the values read from it. Any difference (a new field, a
    ``null``, a type that changed, a name given twice) and the batch is read again the
    full way, whose schema is then learned. The check errs only towards reading again.
    """

    def __init__(self) -> None:
        self.schema: dict[str, pl.DataType] = {}
        self.misses = 0
        self.skipped = 0
        self.checked_reads = 0
        self.full_reads = 0

    def learn(self, schema: Mapping[str, pl.DataType]) -> None:
        self.full_reads += 1
        if len(self.schema) > MAX_LEARNED:
            self.schema.clear()  # a source whose names keep changing: start again
        for name, dtype in schema.items():
            known = self.schema.get(name)
            if known is None or known == pl.Null:
                self.schema[name] = dtype
            elif known != dtype and dtype != pl.Null:
                self.schema[name] = pl.String()  # values of both types read as text

    def read(self, data: bytes, texts: pl.Series) -> pl.DataFrame | None:
        """The lines read with the learned schema, or None when that would lose a value."""
        if not self.schema:
            return None
        if self.misses >= MAX_MISSES:
            self.skipped += 1
            if self.skipped % RETRY_AFTER:
                return None
        try:
            frame = pl.read_ndjson(io.BytesIO(data), schema=self.schema)
        except POLARS_ERRORS:
            frame = None
        if frame is None or not _every_value_read(frame, texts):
            self.misses += 1
            return None
        self.misses = 0
        self.checked_reads += 1
        used = [c for c in frame.iter_columns() if c.null_count() < frame.height]
        return frame_of(used, frame.height)


def _every_value_read(frame: pl.DataFrame, texts: pl.Series) -> bool:
    if frame.height != texts.len():
        return False
    names = texts.str.count_matches(KEY)
    values = frame.select(pl.sum_horizontal(pl.all().is_not_null().cast(pl.UInt32))).to_series()
    return bool((names == values).fill_null(False).all())


def line_texts(lines: list[bytes]) -> pl.Series:
    """The lines as text, invalid UTF-8 replaced (as ``bytes.decode`` with ``replace``)."""
    try:
        return pl.Series(lines, dtype=pl.Binary).cast(pl.String)
    except POLARS_ERRORS:  # some line is not UTF-8
        return pl.Series([line.decode("utf-8", "replace") for line in lines], dtype=pl.String)


def decode_json(line: bytes) -> Any:
    """orjson.loads, forgiving invalid UTF-8 (replaced) rather than losing the event."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return orjson.loads(line.decode("utf-8", "replace"))
        raise


def _nested(line: bytes) -> bool:
    """Whether a document holds objects (a hint for the reader; both ways are right)."""
    return b'":{' in line or b'": {' in line


def python_frame(batch: LineBatch, source: str) -> pl.DataFrame:
    """Each document decoded and flattened in Python; bad lines move to ``batch.skipped``."""
    fields = FieldColumns(empty=False)
    good: list[int] = []
    for index, (line, number) in enumerate(zip(batch.lines, batch.numbers, strict=True)):
        try:
            document = decode_json(line)
        except orjson.JSONDecodeError as exc:
            batch.skipped.append(Skip(source, f"line {number}", f"bad JSON: {exc}"))
            continue
        if not isinstance(document, dict):
            batch.skipped.append(Skip(source, f"line {number}", "not a JSON object"))
            continue
        good.append(index)
        fields.add(document)
    if len(good) < len(batch.lines):
        batch.lines = [batch.lines[index] for index in good]
        batch.offsets = [batch.offsets[index] for index in good]
        batch.numbers = [batch.numbers[index] for index in good]
    return fields.frame()


def exactly_lines(whole: bytes | None, batch: LineBatch) -> bytes | None:
    """``whole`` when it is nothing but the batch's lines, each ended by a line feed (the
    last one may not be): no line left out (blank, too long), none changed (a carriage
    return or byte order mark removed). Reading it then equals reading the lines joined,
    without copying tens of megabytes once more."""
    if whole is None or not batch.lines or batch.offsets[0] != 0 or b"\r" in whole \
            or whole.startswith(BOMS):
        return None
    ends = whole.count(b"\n") + (0 if whole.endswith(b"\n") else 1)
    return whole if ends == len(batch.lines) else None


def polars_frame(lines: list[bytes], schemas: LearnedSchema | None = None,
                 texts: pl.Series | None = None, whole: bytes | None = None) -> pl.DataFrame:
    """Polars' NDJSON reader over the lines (or over ``whole``, the same lines as one
    buffer); nested objects flattened, everything a string.

    Columns are handled as Series, never through ``pl.col(name)``: a field name from the
    input may look like a wildcard or a regular expression to the expression engine.
    """
    data = whole if whole is not None else b"\n".join(lines)
    frame = schemas.read(data, texts) if schemas is not None and texts is not None else None
    if frame is None:
        frame = pl.read_ndjson(io.BytesIO(data), infer_schema_length=None)
        if schemas is not None:
            schemas.learn(frame.schema)
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

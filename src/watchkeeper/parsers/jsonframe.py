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

import io
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


def json_frame(batch: LineBatch, source: str) -> pl.DataFrame:
    """The documents of ``batch`` as text columns; bad lines move to ``batch.skipped``."""
    if not batch.lines:
        return pl.DataFrame()
    if not _nested(batch.lines[0]):
        try:
            return polars_frame(batch.lines)
        except POLARS_ERRORS:
            pass  # some line is bad, or the types clash: find out line by line
    return python_frame(batch, source)


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


def polars_frame(lines: list[bytes]) -> pl.DataFrame:
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

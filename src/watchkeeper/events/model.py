"""One shape for every event: a row of a Polars frame.

A batch of events is a :class:`polars.DataFrame`. Its columns are

* the reserved columns below (when / where from / which dataset), and
* the event's *original* fields, under the names the source gives them, flattened
  (``Image``, ``CommandLine``, ``EventID``, ``eventName``, ``id.orig_h`` …), every
  one of type ``pl.String``. Numbers are written in decimal, booleans as
  ``true``/``false``, lists and objects that are not flattened as compact JSON.

Canonical ECS columns (``process.executable`` …) are added beside the originals by
:mod:`watchkeeper.events.normalize`, never by a parser.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import polars as pl

TIMESTAMP = "@timestamp"
"""When the event happened, ``pl.Datetime("us", "UTC")``; null when the source has no time."""
DATASET = "event.dataset"
"""Which kind of log: ``windows.sysmon``, ``windows.security``, ``linux.auditd``, ``syslog``…"""
SOURCE = "log.file.path"
"""Where it was read: a path, ``archive.zip!member/path`` inside archives, or a receiver name."""
OFFSET = "log.offset"
"""Byte offset of the record in its source (``pl.Int64``), or its index where bytes mean nothing."""
LINE = "log.line"
"""1-based line number for line-oriented sources (``pl.Int64``), null otherwise."""
EVENT_ID = "event.id"
"""Set by ``serve``'s pipeline: the chunk's spool position and the record's offset in it."""
INGESTED = "event.ingested"
"""Set by ``serve``'s pipeline: when the receiver took the record (UTC)."""
ORIGINAL = "event.original"
"""The raw record as text, kept only when asked for (it doubles the memory of a batch)."""

RESERVED: dict[str, pl.DataType] = {
    TIMESTAMP: pl.Datetime("us", "UTC"),
    DATASET: pl.String(),
    SOURCE: pl.String(),
    OFFSET: pl.Int64(),
    LINE: pl.Int64(),
    ORIGINAL: pl.String(),
}


@dataclass(frozen=True, slots=True)
class Skip:
    """A record, chunk or file that could not be read, and why."""

    source: str
    location: str
    """``line 12``, ``offset 4096``, ``chunk 3``, ``record 17`` or ``file``."""
    reason: str

    def __str__(self) -> str:
        return f"{self.source} ({self.location}): {self.reason}"


def stringify(value: Any) -> str | None:
    """The text form of one original field value, as every batch stores it."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def frame_from_records(
    records: Iterable[Mapping[str, Any]],
    reserved: Mapping[str, Iterable[Any]] | None = None,
) -> pl.DataFrame:
    """Build a batch from flat records (original fields) and reserved columns.

    ``records`` map original field names to values of any JSON type; they are
    stringified. ``reserved`` gives whole reserved columns (same length), e.g.
    ``{SOURCE: [...], LINE: [...]}``; reserved columns not given are left out.
    """
    rows = list(records)
    columns: dict[str, list[str | None]] = {}
    for index, row in enumerate(rows):
        for key, value in row.items():
            column = columns.get(key)
            if column is None:
                column = columns[key] = [None] * len(rows)
            column[index] = stringify(value)
    series = [pl.Series(name, values, dtype=pl.String) for name, values in columns.items()]
    frame = pl.DataFrame(series) if series else pl.DataFrame(height=len(rows))
    if reserved:
        extra = [
            pl.Series(name, list(values), dtype=RESERVED[name]) for name, values in reserved.items()
        ]
        frame = frame.with_columns(extra)
    return frame

"""The columns every stored event has, their types, and checking a batch before it is stored.

Reserved columns keep their Polars types; every other field is text. DuckDB matches
column names without regard to case, so a batch is made free of names that differ only
by case before it is written (see :func:`prepare`); the stores' ``columns()`` fold names
the same way.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from watchkeeper.errors import UsageError
from watchkeeper.events.model import (
    DATASET,
    EVENT_ID,
    INGESTED,
    LINE,
    OFFSET,
    ORIGINAL,
    SOURCE,
    TIMESTAMP,
)

UTC_MICROS = pl.Datetime("us", "UTC")
STORE_COLUMNS: dict[str, pl.DataType] = {
    TIMESTAMP: UTC_MICROS,
    EVENT_ID: pl.String(),
    INGESTED: UTC_MICROS,
    DATASET: pl.String(),
    SOURCE: pl.String(),
    OFFSET: pl.Int64(),
    LINE: pl.Int64(),
    ORIGINAL: pl.String(),
}
"""Columns every stored event has (null where unknown), in the order files hold them."""

REQUIRED = (EVENT_ID, INGESTED, DATASET)
"""Reserved columns that may not be null: identity, retention day and retention policy."""

TIMESTAMPTZ = "TIMESTAMP WITH TIME ZONE"
DUCKDB_TYPES: dict[str, str] = {
    TIMESTAMP: TIMESTAMPTZ,
    INGESTED: TIMESTAMPTZ,
    OFFSET: "BIGINT",
    LINE: "BIGINT",
}
"""DuckDB types of the reserved columns that are not text."""
TEXT = "VARCHAR"

_TEXT_LIKE = (pl.String, pl.Categorical, pl.Enum, pl.Null)


def fold(name: str) -> str:
    """The key under which DuckDB treats column names as the same."""
    return name.lower()


def duckdb_type(name: str) -> str:
    """The DuckDB type of a stored column."""
    return DUCKDB_TYPES.get(name, TEXT)


def _cast_column(frame: pl.DataFrame, name: str, want: pl.DataType) -> pl.Expr:
    have = frame.schema[name]
    if have == want:
        return pl.col(name)
    if isinstance(have, pl.Null) or (want == pl.String() and isinstance(have, _TEXT_LIKE)):
        return pl.col(name).cast(want)
    raise UsageError(f"column {name!r} is {have}, the event store keeps it as {want}")


def _merge_case_twins(frame: pl.DataFrame) -> pl.DataFrame:
    """Columns whose names differ only by case become one: a reserved name wins outright,
    otherwise the first spelling keeps the first non-null value of the row."""
    groups: dict[str, list[str]] = {}
    for name in frame.columns:
        groups.setdefault(fold(name), []).append(name)
    drop: list[str] = []
    merged: list[pl.Expr] = []
    for names in groups.values():
        if len(names) == 1:
            continue
        keep = next((n for n in names if n in STORE_COLUMNS), None)
        if keep is None:
            keep = names[0]
            merged.append(pl.coalesce(names).alias(keep))
        drop.extend(n for n in names if n != keep)
    if not drop:
        return frame
    return frame.with_columns(merged).drop(drop)


def prepare(batch: pl.DataFrame) -> pl.DataFrame:
    """The batch as it is stored: reserved columns first with their types, others as text.

    Raises :class:`UsageError` for a batch the pipeline should never produce: a missing
    or null ``event.id``, ``event.ingested`` or ``event.dataset``, or a column of the
    wrong type. An empty batch (no rows) is returned as an empty frame of reserved columns.
    """
    if batch.height == 0:
        return pl.DataFrame(schema=STORE_COLUMNS)
    frame = _merge_case_twins(batch)
    missing = [name for name in REQUIRED if name not in frame.columns]
    if missing:
        raise UsageError(f"batch lacks the column(s) {', '.join(missing)}")
    casts = [
        _cast_column(frame, name, STORE_COLUMNS.get(name, pl.String())).alias(name)
        for name in frame.columns
    ]
    frame = frame.select(casts)
    nulls = frame.select(pl.col(list(REQUIRED)).null_count()).row(0)
    for name, count in zip(REQUIRED, nulls, strict=True):
        if count:
            raise UsageError(f"{count} event(s) of the batch have no {name}")
    reserved = [
        pl.col(name) if name in frame.columns else pl.lit(None, dtype).alias(name)
        for name, dtype in STORE_COLUMNS.items()
    ]
    others = [name for name in frame.columns if name not in STORE_COLUMNS]
    return frame.select(*reserved, *others)


def batch_day(frame: pl.DataFrame) -> date:
    """The UTC ingestion day a prepared, non-empty batch is filed under: its latest.

    Taking the latest means retention never removes an event before its day has passed;
    an event ingested just before midnight may outlive its day by the batch's length.
    """
    latest = frame[INGESTED].max()
    if not isinstance(latest, datetime):
        raise UsageError("batch has no event.ingested time")
    return latest.astimezone(UTC).date()

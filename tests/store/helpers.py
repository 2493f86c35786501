"""Batches shaped as the pipeline hands them to the event store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import polars as pl

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
UTC_US = pl.Datetime("us", "UTC")


def events(
    ids: Sequence[str],
    *,
    dataset: str = "windows.sysmon",
    ingested: datetime = T0,
    start: datetime = T0,
    fields: Mapping[str, Sequence[str | None]] | None = None,
    **more: Sequence[str | None],
) -> pl.DataFrame:
    """One batch: ``ids`` one minute apart from ``start``, plus string ``fields``/``more``."""
    n = len(ids)
    columns: dict[str, pl.Series] = {
        "@timestamp": pl.Series([start + timedelta(minutes=i) for i in range(n)], dtype=UTC_US),
        "event.id": pl.Series(list(ids), dtype=pl.String),
        "event.ingested": pl.Series([ingested] * n, dtype=UTC_US),
        "event.dataset": pl.Series([dataset] * n, dtype=pl.String),
        "log.file.path": pl.Series(["tcp://10.0.0.1"] * n, dtype=pl.String),
        "log.offset": pl.Series(range(n), dtype=pl.Int64),
        "log.line": pl.Series([None] * n, dtype=pl.Int64),
        "event.original": pl.Series([f"raw {i}" for i in ids], dtype=pl.String),
    }
    for name, values in {**(fields or {}), **more}.items():
        columns[name] = pl.Series(list(values), dtype=pl.String)
    return pl.DataFrame(columns)


def ids_of(frame: pl.DataFrame) -> list[str]:
    return sorted(frame["event.id"].to_list())

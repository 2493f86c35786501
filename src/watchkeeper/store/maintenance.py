"""File work of the Parquet store's writer: merging files and rewriting them without rows.

Every new file is committed by rename before the files it replaces are deleted, so a
crash in between leaves both, and readers take the covering file only (see ``layout``).
DuckDB does the reading and writing, within the store's memory limit (spilling to disk).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb

from watchkeeper.events.model import DATASET, TIMESTAMP
from watchkeeper.store.layout import PartFile, day_dir, part_name, write_atomic

COMPRESSION = "zstd"
ROW_GROUP_ROWS = 32 * 1024
"""Rows per row group of merged files: small enough that a search for the newest matches
reads few groups before skipping the rest by time, large enough for fast full scans."""


def _read(cursor: duckdb.DuckDBPyConnection, paths: Sequence[Path]) -> duckdb.DuckDBPyRelation:
    return cursor.read_parquet(
        [str(path) for path in paths], union_by_name=True, hive_partitioning=False
    )


def merge(cursor: duckdb.DuckDBPyConnection, root: Path, group: Sequence[PartFile]) -> PartFile:
    """Write ``group`` (neighbours of one day) as one file, newest event first, then delete
    the group. Sorted, the file's row groups have narrow time ranges that time filters and
    top-n searches use to skip them."""
    day = group[0].day
    first = min(file.first for file in group)
    last = max(file.last for file in group)
    target = day_dir(root, day) / part_name(first, last)
    relation = _read(cursor, [file.path for file in group]).sort(
        duckdb.ColumnExpression(TIMESTAMP).desc().nulls_last()
    )
    write_atomic(target, lambda temp: relation.write_parquet(
        str(temp), compression=COMPRESSION, row_group_size=ROW_GROUP_ROWS, use_tmp_file=False
    ))
    remove(group)
    stat = target.stat()
    return PartFile(target, day, first, last, 0, stat.st_size, stat.st_mtime_ns)


def dataset_counts(cursor: duckdb.DuckDBPyConnection, file: PartFile) -> dict[str, int]:
    """How many events of each dataset ``file`` holds."""
    rows = _read(cursor, [file.path]).aggregate(
        f'"{DATASET}", count(*)', f'"{DATASET}"'
    ).fetchall()
    return {str(dataset): int(count) for dataset, count in rows}


def rewrite_without(
    cursor: duckdb.DuckDBPyConnection, root: Path, file: PartFile, datasets: Iterable[str]
) -> None:
    """Write the next version of ``file`` without the events of ``datasets``, then delete it."""
    target = day_dir(root, file.day) / part_name(file.first, file.last, file.version + 1)
    dropped = duckdb.ColumnExpression(DATASET).isin(
        *(duckdb.ConstantExpression(name) for name in sorted(datasets))
    )
    relation = _read(cursor, [file.path]).filter(~dropped)
    write_atomic(target, lambda temp: relation.write_parquet(
        str(temp), compression=COMPRESSION, row_group_size=ROW_GROUP_ROWS, use_tmp_file=False
    ))
    remove([file])


def remove(files: Iterable[PartFile]) -> None:
    for file in files:
        file.path.unlink(missing_ok=True)

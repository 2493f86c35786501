"""The DuckDB side of the stores: a locked-down in-process database and running one SELECT.

Each store owns one in-memory DuckDB database with a memory limit and a thread count.
A query runs on its own cursor (a connection to that database), which has its own
temporary ``events`` view, so queries from several threads neither share state nor wait
for each other. The database may read (and the writer write) only below the store's
folder; its settings are locked before any query runs, so SQL cannot loosen them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl

from watchkeeper.errors import UsageError, WatchkeeperError
from watchkeeper.store.base import RELATION
from watchkeeper.store.columns import STORE_COLUMNS, duckdb_type

_ALLOWED_STATEMENTS = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})
_REFUSED = (
    duckdb.ParserException,
    duckdb.BinderException,
    duckdb.CatalogException,
    duckdb.ConversionException,
    duckdb.PermissionException,
)
"""Errors that come from the query text or its values, not from the stored data."""

GET_SQL = 'SELECT * FROM events WHERE "event.id" IN (SELECT unnest(?::VARCHAR[]))'
COUNT_SQL = "SELECT count(*) FROM events"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Database:
    """One in-memory DuckDB database; :meth:`cursor` gives each query its own connection."""

    def __init__(
        self,
        *,
        memory_limit: str,
        threads: int,
        allowed: Sequence[Path] = (),
        spill_dir: Path | None = None,
    ) -> None:
        if threads < 1:
            raise UsageError(f"threads must be at least 1, not {threads}")
        try:
            con = duckdb.connect(":memory:", config={
                "memory_limit": memory_limit,
                "threads": threads,
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
            })
        except duckdb.Error as err:
            raise UsageError(f"bad event store engine settings: {err}") from err
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET parquet_metadata_cache = true")
        if spill_dir is not None:
            con.execute("SET temp_directory = ?", [str(spill_dir)])
        con.execute("SET allowed_directories = ?", [[str(path) + os.sep for path in allowed]])
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        self._con = con
        self._lock = threading.Lock()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            return self._con.cursor()

    def close(self) -> None:
        with self._lock:
            self._con.close()


def empty_view_sql() -> str:
    """An ``events`` view with the reserved columns and no rows."""
    columns = ", ".join(
        f"CAST(NULL AS {duckdb_type(name)}) AS {quote(name)}" for name in STORE_COLUMNS
    )
    return f"CREATE TEMP VIEW {RELATION} AS SELECT {columns} WHERE false"


def files_view_sql(files: Sequence[Path]) -> str:
    """An ``events`` view over exactly these Parquet files, columns united by name."""
    if not files:
        return empty_view_sql()
    # A view cannot take parameters: the paths (the store's own) go in as quoted literals.
    names = ", ".join(literal(str(path)) for path in files)
    return (
        f"CREATE TEMP VIEW {RELATION} AS SELECT * FROM read_parquet([{names}], "  # noqa: S608
        "union_by_name = true, hive_partitioning = false)"
    )


def create_view(cursor: duckdb.DuckDBPyConnection, files: Sequence[Path]) -> None:
    """The cursor's ``events`` view over ``files``; I/O errors pass through (retry)."""
    try:
        cursor.execute(files_view_sql(files))
    except duckdb.IOException:
        raise
    except duckdb.Error as err:
        raise WatchkeeperError(f"cannot read the event files: {err}") from err


def check_select(cursor: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but a single SELECT (or EXPLAIN of one)."""
    try:
        statements = cursor.extract_statements(sql)
    except duckdb.Error as err:
        raise UsageError(f"query refused: {err}") from err
    if len(statements) != 1 or statements[0].type not in _ALLOWED_STATEMENTS:
        raise UsageError("the event store runs exactly one SELECT statement per query")


def run_select(
    cursor: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object]
) -> pl.DataFrame:
    """Run a checked SELECT with its parameters; DuckDB's I/O errors pass through unchanged
    (the caller may retry them), others become Watchkeeper errors."""
    check_select(cursor, sql)
    try:
        relation = cursor.sql(sql, params=list(params))
        frame = relation.pl() if relation is not None else pl.DataFrame()
    except duckdb.IOException:
        raise
    except _REFUSED as err:
        raise UsageError(f"query refused: {err}") from err
    except duckdb.Error as err:
        raise WatchkeeperError(f"the event store could not run the query: {err}") from err
    return in_utc(frame)


def in_utc(frame: pl.DataFrame) -> pl.DataFrame:
    """Zoned times labelled ``UTC`` (DuckDB hands them over as ``Etc/UTC``)."""
    zoned = [
        pl.col(name).dt.convert_time_zone("UTC")
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone not in (None, "UTC")
    ]
    return frame.with_columns(zoned) if zoned else frame

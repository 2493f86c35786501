"""What a Parquet store folder holds right now: its readable files and their columns.

Footers are read once per file (a file never changes under its name; its size and
modification time are part of the key all the same) and checked: a file that is not
Parquet, or whose columns this store could not have written, is reported by name rather
than read into wrong answers.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from watchkeeper.errors import WatchkeeperError
from watchkeeper.store.columns import STORE_COLUMNS, duckdb_type, fold
from watchkeeper.store.layout import PartFile, effective, scan

Schema = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The files to read (``files``, newest first) and those another file covers.

    Newest first, because DuckDB scans files in the order given: a search for the latest
    matches (``ORDER BY "@timestamp" DESC LIMIT n``) fills its top n from the newest rows
    and then skips every older row group by its time statistics.
    """

    files: list[PartFile]
    covered: list[PartFile]

    @property
    def paths(self) -> list[Path]:
        return [file.path for file in self.files]


def _expected(name: str) -> pl.DataType:
    return STORE_COLUMNS.get(name, pl.String())


class Catalog:
    """Lists a store folder and keeps each file's column types (thread-safe)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._schemas: dict[tuple[str, int, int], Schema] = {}
        self._unions: dict[tuple[tuple[str, int, int], ...], dict[str, str]] = {}

    def snapshot(self) -> Snapshot:
        kept, covered = effective(scan(self.root))
        return Snapshot(kept[::-1], covered)

    def columns(self, files: Sequence[PartFile]) -> dict[str, str]:
        """Field name → DuckDB type over ``files``, as DuckDB unites them by name: names
        that differ only by case are one column, spelled as in the first file listed.

        Raises ``FileNotFoundError`` when a file vanished since it was listed.
        """
        key = tuple(file.identity for file in files)
        with self._lock:
            known = self._unions.get(key)
        if known is not None:
            return dict(known)
        union: dict[str, tuple[str, str]] = {
            fold(name): (name, duckdb_type(name)) for name in STORE_COLUMNS
        }
        for file in files:
            for name, type_name in self._schema(file):
                union.setdefault(fold(name), (name, type_name))
        result = dict(union.values())
        with self._lock:
            self._unions = {key: result}
            live = set(key)
            self._schemas = {k: v for k, v in self._schemas.items() if k in live}
        return dict(result)

    def _schema(self, file: PartFile) -> Schema:
        with self._lock:
            known = self._schemas.get(file.identity)
        if known is not None:
            return known
        try:
            schema = pl.read_parquet_schema(file.path)
        except FileNotFoundError:
            raise
        except (pl.exceptions.PolarsError, OSError) as err:
            raise _unreadable(file.path, f"not a readable Parquet file ({err})") from err
        for name, dtype in schema.items():
            if dtype != _expected(name):
                raise _unreadable(file.path, f"column {name!r} is {dtype}, this store writes "
                                             f"{_expected(name)}")
        result = tuple((name, duckdb_type(name)) for name in schema)
        with self._lock:
            self._schemas[file.identity] = result
        return result


def _unreadable(path: Path, reason: str) -> WatchkeeperError:
    return WatchkeeperError(
        f"{reason}; searches cannot go on until it is repaired or moved out of the store",
        location=str(path),
    )


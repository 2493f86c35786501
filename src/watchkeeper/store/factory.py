"""Event stores chosen by URL, from one small table of schemes.

    open_event_store("parquet:///var/lib/watchkeeper/events")   # Parquet files read by DuckDB
    open_event_store("/var/lib/watchkeeper/events")             # the same, as a plain path
    open_event_store("memory://")                               # in memory, for tests
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from watchkeeper.errors import UsageError
from watchkeeper.store.base import EventStore
from watchkeeper.store.memory import MemoryEventStore
from watchkeeper.store.parquet import ParquetEventStore

Opener = Callable[[str, bool, str, int], EventStore]


def _parquet(rest: str, read_only: bool, memory_limit: str, threads: int) -> EventStore:
    if not rest:
        raise UsageError("parquet:// needs a folder, as in parquet:///var/lib/watchkeeper/events")
    return ParquetEventStore(Path(rest), read_only=read_only, memory_limit=memory_limit,
                             threads=threads)


def _memory(rest: str, read_only: bool, memory_limit: str, threads: int) -> EventStore:
    if rest:
        raise UsageError(f"memory:// takes no path, not {rest!r}")
    return MemoryEventStore(memory_limit=memory_limit, threads=threads)


SCHEMES: dict[str, Opener] = {"parquet": _parquet, "memory": _memory}


def open_event_store(
    url: str | Path, *, read_only: bool = False, memory_limit: str = "1GB", threads: int = 2
) -> EventStore:
    """The store a configuration URL names; a plain path is a Parquet store folder."""
    text = str(url)
    scheme, separator, rest = text.partition("://")
    if not separator:
        scheme, rest = "parquet", text
    opener = SCHEMES.get(scheme)
    if opener is None:
        known = ", ".join(f"{name}://" for name in SCHEMES)
        raise UsageError(f"unknown event store {text!r}; known kinds: {known}")
    return opener(rest, read_only, memory_limit, threads)

"""The event store protocol: what the pipeline, search and retention need from storage.

Events arrive as Polars batches, each covering a range of spool sequence numbers; the
highest stored number is the pipeline's checkpoint. Reads are SQL over one relation
named ``events`` with ``?`` placeholders, so the search compiler never pastes values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol, runtime_checkable

import polars as pl

RELATION = "events"
"""The name under which every store exposes its events to SQL."""


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one retention pass removed: rows per dataset, files and whole days."""

    rows_removed: dict[str, int] = field(default_factory=dict)
    files_removed: int = 0
    """Files deleted because every row in them had expired (whole days included)."""
    files_rewritten: int = 0
    """Files written again without their expired rows."""
    days_removed: tuple[date, ...] = ()

    @property
    def total_rows(self) -> int:
        return sum(self.rows_removed.values())


@runtime_checkable
class EventStore(Protocol):
    """Stores batches of events exactly once and answers SQL over them."""

    def write(self, batch: pl.DataFrame, first_seq: int, last_seq: int) -> None:
        """Store ``batch``, which covers spool numbers ``first_seq..last_seq``, atomically.

        A range already stored (``last_seq <= committed_seq()``) is a no-op, so a replay
        after a crash stores nothing twice; a range that starts inside the stored one but
        ends after it is a :class:`~watchkeeper.errors.ConflictError`.
        """
        ...

    def committed_seq(self) -> int:
        """The highest spool number stored, -1 when nothing ever was."""
        ...

    def columns(self) -> dict[str, str]:
        """Every field of the stored events and its DuckDB type."""
        ...

    def query(self, sql: str, params: Sequence[object]) -> pl.DataFrame:
        """Run one SELECT over the relation ``events`` with ``?`` placeholders."""
        ...

    def get(self, event_ids: Sequence[str]) -> pl.DataFrame:
        """The events with these ``event.id`` values, in any order; unknown ids are absent."""
        ...

    def count(self) -> int:
        """How many events are stored."""
        ...

    def compact(self) -> int:
        """Merge small files (or batches); returns how many were merged into others."""
        ...

    def enforce_retention(
        self, now: datetime, default_days: int, per_dataset: Mapping[str, int]
    ) -> RetentionReport:
        """Remove events whose ingestion day is older than their dataset's time to live."""
        ...

    def close(self) -> None:
        """Release files, locks and the query engine; the store is unusable afterwards."""
        ...

"""The event store: every ingested event, kept exactly once and searchable with SQL.

    store = open_event_store("parquet:///var/lib/watchkeeper/events")
    store.write(batch, first_seq, last_seq)        # atomic; a replayed range is a no-op
    store.query('SELECT * FROM events WHERE "host.name" = ? LIMIT ?', ["dc1", 10])

:class:`ParquetEventStore` writes Parquet files that DuckDB reads, from this process or
any other (``read_only=True``); :class:`MemoryEventStore` is the in-memory fake with the
same contract. Layout and guarantees: docs/storage.md.
"""

from watchkeeper.store.base import RELATION, EventStore, RetentionReport
from watchkeeper.store.factory import open_event_store
from watchkeeper.store.memory import MemoryEventStore
from watchkeeper.store.parquet import ParquetEventStore

__all__ = [
    "RELATION",
    "EventStore",
    "MemoryEventStore",
    "ParquetEventStore",
    "RetentionReport",
    "open_event_store",
]

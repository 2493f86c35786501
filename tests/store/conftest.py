from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from watchkeeper.store import EventStore, MemoryEventStore, ParquetEventStore


@pytest.fixture(params=["parquet", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    """Each contract test runs against the real store and against the fake."""
    opened: EventStore
    if request.param == "parquet":
        opened = ParquetEventStore(tmp_path / "events", memory_limit="256MB", threads=1,
                                   compact_min_files=2)
    else:
        opened = MemoryEventStore()
    yield opened
    opened.close()


@pytest.fixture
def parquet(tmp_path: Path) -> Iterator[ParquetEventStore]:
    opened = ParquetEventStore(tmp_path / "events", memory_limit="256MB", threads=1,
                               compact_min_files=4)
    yield opened
    opened.close()

"""Stores opened from configuration URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.store.helpers import events
from watchkeeper.errors import UsageError
from watchkeeper.store import MemoryEventStore, ParquetEventStore, open_event_store


@pytest.mark.parametrize("form", ["parquet://{}", "{}"])
def test_parquet_urls_and_plain_paths_open_a_folder(tmp_path: Path, form: str) -> None:
    root = tmp_path / "events"
    store = open_event_store(form.format(root), threads=1)
    try:
        assert isinstance(store, ParquetEventStore)
        assert store.root == root
        store.write(events(["a"]), 0, 0)
    finally:
        store.close()
    reader = open_event_store(f"parquet://{root}", read_only=True)
    try:
        assert isinstance(reader, ParquetEventStore)
        assert reader.read_only
        assert reader.count() == 1
    finally:
        reader.close()


def test_memory_url_opens_the_fake() -> None:
    store = open_event_store("memory://")
    assert isinstance(store, MemoryEventStore)
    store.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [("clickhouse://db:9000/events", "known kinds: parquet://, memory://"),
     ("parquet://", "needs a folder"),
     ("memory://somewhere", "takes no path")],
)
def test_bad_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        open_event_store(url)

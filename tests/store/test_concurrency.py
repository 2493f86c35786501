"""Searching from several threads while the writer ingests, merges and expires."""

from __future__ import annotations

import threading
from datetime import timedelta

from tests.store.helpers import T0, events
from watchkeeper.store import EventStore


def test_readers_see_whole_batches_while_the_writer_works(store: EventStore) -> None:
    batch_size, batches = 7, 24
    seen: list[int] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def search() -> None:
        try:
            while not done.is_set():
                seen.append(store.count())
                frame = store.query('SELECT count(DISTINCT "event.id") AS n FROM events', [])
                seen.append(int(frame.item()))
        except BaseException as err:  # handed to the main thread, which fails the test
            failures.append(err)

    readers = [threading.Thread(target=search) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for seq in range(batches):
            ingested = T0 + timedelta(days=seq // 8)
            store.write(events([f"{seq}-{i}" for i in range(batch_size)], ingested=ingested),
                        seq, seq)
            if seq % 5 == 4:
                store.compact()
        report = store.enforce_retention(T0 + timedelta(days=1), 0, {})
        assert report.total_rows == 8 * batch_size
    finally:
        done.set()
        for reader in readers:
            reader.join(timeout=60)
    assert not failures
    assert seen
    assert all(count % batch_size == 0 for count in seen)
    assert store.count() == batch_size * (batches - 8)

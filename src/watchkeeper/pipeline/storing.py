"""Writing batches to the event store one batch behind, in a thread of its own.

The pipeline thread hands a batch over once its alerts are committed and goes on with
the next one while this thread writes it: on two cores, storing (Parquet encoding)
overlaps parsing and detection. Batches are written in the order given, and at most one
waits, so memory stays at two batches. If a write fails, later batches are not written
(the store's checkpoint must only grow in order); the pipeline sees :attr:`failed`,
waits for :meth:`idle`, calls :meth:`reset` and reads the spool again from what is
stored — alerts are idempotent, so the batches processed again add none.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

import polars as pl

from watchkeeper.ops.metrics import Metrics
from watchkeeper.store.base import EventStore

log = logging.getLogger(__name__)
Batch = tuple[pl.DataFrame, int, int]


class StoreWriter:
    def __init__(
        self, store: EventStore, on_stored: Callable[[int], None], metrics: Metrics
    ) -> None:
        self.store = store
        self.on_stored = on_stored
        self.metrics = metrics
        self.failed: BaseException | None = None
        self._queue: queue.Queue[Batch | None] = queue.Queue(maxsize=1)
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()

    def submit(self, frame: pl.DataFrame, first: int, last: int) -> None:
        """Queue a batch (blocks while another one waits)."""
        self._queue.put((frame, first, last))

    def idle(self) -> None:
        """Wait until every queued batch is written (or skipped after a failure)."""
        self._queue.join()

    def reset(self) -> None:
        self.idle()
        self.failed = None

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                if self.failed is None:
                    frame, first, last = item
                    with self.metrics.stage_seconds.labels("store").time():
                        self.store.write(frame, first, last)
                    self.on_stored(last)
            except Exception as error:
                log.exception("storing a batch failed; it will be processed again")
                self.failed = error
            finally:
                self._queue.task_done()

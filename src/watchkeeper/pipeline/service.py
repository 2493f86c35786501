"""The pipeline loop: micro-batches from the spool through every stage to the stores.

Order of commits, which is what makes a crash at any point harmless:

1. alerts and dead letters of the batch, in one state transaction — idempotent by
   (rule, event id) and (spool seq, location), so a replay adds nothing twice;
2. the events, in one atomic write to the event store, whose highest stored spool
   sequence number is the pipeline's checkpoint;
3. the spool is told it may drop what is now stored.

After a crash the loop starts again after the event store's checkpoint: a batch whose
alerts were written but whose events were not is processed again, adding its events
and no alert.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import polars as pl
from sqlalchemy.exc import SQLAlchemyError

from watchkeeper.alerts.writer import AlertWriter, Grouping, match_rows
from watchkeeper.deadletters.service import DeadLetters, Rejected
from watchkeeper.detection.rules import Rule
from watchkeeper.errors import UsageError
from watchkeeper.events.enrich import AssetEnricher
from watchkeeper.events.model import EVENT_ID, INGESTED
from watchkeeper.events.normalize import Normalizer
from watchkeeper.ingest.spool import Chunk, Spool
from watchkeeper.intel.service import GROUPING as INTEL_GROUPING
from watchkeeper.intel.service import RULE_PREFIX as INTEL_PREFIX
from watchkeeper.intel.service import IntelService
from watchkeeper.ops.metrics import Metrics
from watchkeeper.pipeline.decode import Decoded, Decoder
from watchkeeper.pipeline.storing import StoreWriter
from watchkeeper.rules.service import RuleService
from watchkeeper.state.db import StateDB
from watchkeeper.store.base import EventStore

log = logging.getLogger(__name__)
BYTES_PER_EVENT = 600
"""The first guess of an event's raw size, to cut batches by bytes before parsing; then
the average of what was seen (syslog lines are ~150 bytes, Windows JSON ~800)."""
MIN_EVENT_BYTES, MAX_EVENT_BYTES = 64, 64 << 10
"""Bounds on that average, so that one odd body cannot make a batch huge."""
RETRY_DELAY_S = 1.0
ATTEMPTS = 3
INFRASTRUCTURE = (OSError, SQLAlchemyError)
"""Failures of the disk or the database: retried for as long as they last, never blamed
on the input."""
"""Tries of a failing batch before its chunks are run one by one and the failing ones
are put aside as dead letters: one poisonous input must not stop the pipeline."""


class AssetSource(Protocol):
    """Where enrichment reads the asset table from (the asset service)."""

    @property
    def version(self) -> int: ...
    def frame(self) -> pl.DataFrame: ...


@dataclass(frozen=True, slots=True)
class BatchResult:
    first_seq: int
    last_seq: int
    events: int
    matches: int
    alerts: int
    rejected: int


class Pipeline:
    """Runs in its own thread; :meth:`process` also runs one batch on demand (tests, import)."""

    def __init__(
        self,
        *,
        spool: Spool,
        store: EventStore,
        db: StateDB,
        rules: RuleService,
        decoder: Decoder,
        normalizer: Normalizer,
        assets: AssetSource,
        dead_letters: DeadLetters,
        metrics: Metrics,
        batch_size: int = 20_000,
        max_latency_s: float = 0.2,
        intel: IntelService | None = None,
    ) -> None:
        self.spool, self.store, self.db, self.rules = spool, store, db, rules
        self.decoder, self.normalizer, self.dead_letters = decoder, normalizer, dead_letters
        self.metrics = metrics
        self.assets = assets
        self.intel = intel
        self.batch_size = batch_size
        self.bytes_per_event = float(BYTES_PER_EVENT)
        self.max_latency_s = max_latency_s
        self.position = max(store.committed_seq(), 0)
        """The highest spool seq whose events are stored (spool seqs start at 1)."""
        if spool.last_seq() < self.position:
            # new chunks would reuse stored sequence numbers, hence event ids
            raise UsageError(
                f"the spool ends at {spool.last_seq()} but events up to {self.position} are "
                "stored: the spool folder was removed or replaced; restore it, or start "
                "with a new data folder"
            )
        self.read_position = self.position
        """The highest spool seq processed (its batch may still be on its way to the store)."""
        self.writer = AlertWriter()
        self._store_writer: StoreWriter | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._asset_frame: tuple[int, AssetEnricher] | None = None
        self.processed = threading.Condition()

    # running ---------------------------------------------------------------------------

    def start(self) -> None:
        self.spool.release(self.position)
        self._store_writer = StoreWriter(self.store, self._advance, self.metrics)
        self._thread = threading.Thread(target=self._run, name="pipeline", daemon=True)
        self._thread.start()

    @property
    def batch_bytes(self) -> int:
        """Raw bytes that make about ``batch_size`` events."""
        return max(1, int(self.batch_size * self.bytes_per_event))

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, drain_timeout_s: float = 10.0) -> None:
        """Process what has arrived (for up to ``drain_timeout_s``), then stop."""
        deadline = time.monotonic() + drain_timeout_s
        while self.running and self.spool.last_seq() > self.position:
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._store_writer is not None:
            self._store_writer.close()
            self._store_writer = None

    def wait_for(self, seq: int, timeout_s: float = 10.0) -> bool:
        """Block until everything up to spool sequence ``seq`` is stored."""
        with self.processed:
            return self.processed.wait_for(lambda: self.position >= seq, timeout=timeout_s)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            writer = self._store_writer
            try:
                if writer is not None and writer.failed is not None:
                    raise RuntimeError("the store writer failed") from writer.failed
                chunks = self._gather()
                if chunks and failures >= ATTEMPTS:
                    self._one_by_one(chunks)
                elif chunks:
                    self.process(chunks, background=True)
                failures = 0
            except Exception:
                # what was not stored stays in the spool and is processed again; nothing
                # is acknowledged twice and nothing is lost, but the error must be seen
                log.exception("batch failed, retrying", extra={"after_seq": self.position})
                self.metrics.batch_errors.inc()
                failures += 1
                if writer is not None:
                    writer.reset()
                self.read_position = self.position
                self._stop.wait(RETRY_DELAY_S)

    def _one_by_one(self, chunks: Sequence[Chunk]) -> None:
        """After repeated failures: each chunk alone, and one that still fails for a reason
        of its own (not the database or the disk) is put aside as a replayable dead letter."""
        if self._store_writer is not None:
            self._store_writer.idle()
        for chunk in chunks:
            error: Exception | None = None
            for _ in range(ATTEMPTS):
                try:
                    self.process([chunk])
                    error = None
                    break
                except INFRASTRUCTURE:
                    raise  # not the chunk's fault: the outer loop waits and tries again
                except Exception as failure:
                    error = failure
            if error is None:
                continue
            log.error("chunk put aside", exc_info=error, extra={"seq": chunk.seq})
            reason = f"processing failed: {type(error).__name__}: {error}"
            with self.db.session() as session:
                self.dead_letters.put_rejected(session, [Rejected(
                    chunk.origin, chunk.source_type, reason, "chunk", chunk.seq, chunk.payload)])
            self.store.write(pl.DataFrame(), chunk.seq, chunk.seq)
            self._advance(chunk.seq)
            self.read_position = chunk.seq

    def _gather(self) -> list[Chunk]:
        self.dead_letters.flush()
        if not self.spool.wait(self.read_position, timeout=0.25):
            return []
        chunks = self.spool.read(self.read_position, self.batch_bytes)
        if not chunks:
            return []
        # The batch is cut when its oldest chunk has waited max_latency since it arrived,
        # not max_latency after this read: when the pipeline is behind, what it reads has
        # waited long enough already, and waiting more would only add to every event's delay.
        waited = (datetime.now(UTC) - chunks[0].received).total_seconds()
        deadline = time.monotonic() + self.max_latency_s - max(0.0, waited)
        size = sum(len(c.payload) for c in chunks)
        while size < self.batch_bytes and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.spool.wait(chunks[-1].seq, timeout=remaining):
                break
            more = self.spool.read(chunks[-1].seq, self.batch_bytes - size)
            chunks.extend(more)
            size += sum(len(c.payload) for c in more)
        return chunks

    # one batch ---------------------------------------------------------------------------

    def process(self, chunks: Sequence[Chunk], *, background: bool = False) -> BatchResult:
        """Run one batch through every stage. ``background``: hand the store write to the
        store writer (the pipeline thread); otherwise write it before returning."""
        first, last = chunks[0].seq, chunks[-1].seq
        stage = self.metrics.stage_seconds
        with stage.labels("parse").time():
            decoded = self.decoder.decode(chunks)
        frame = decoded.frame
        for source_type, count in decoded.events_by_type.items():
            self.metrics.events_in.labels(source_type).inc(count)
        if frame.height:
            with stage.labels("normalize").time():
                frame = self._enricher().apply(self.normalizer.apply(frame))
        active = self.rules.active
        with stage.labels("detect").time():
            found = active.engine.evaluate(frame.drop(EVENT_ID, INGESTED)) if frame.height \
                else None
        hits = None
        if self.intel is not None and frame.height:
            with stage.labels("intel").time():
                hits = self.intel.match(frame)
        groupings = [*active.groupings.values(), active.default_grouping, INTEL_GROUPING]
        matches = match_rows(frame, found, groupings)
        rules = active.rules
        with stage.labels("alerts").time(), self.db.session() as session:
            if hits is not None and hits.height and self.intel is not None:
                rules, matches = self.intel.with_matches(session, frame, hits, rules, matches,
                                                         groupings)
            stats = self.writer.record(session, matches, rules, _grouping(active.grouping))
            if self.intel is not None:
                self.intel.record_seen(session, stats.counted, datetime.now(UTC))
            self.dead_letters.put_rejected(session, decoded.rejected)
        now = datetime.now(UTC)
        if stats.created and matches.height:
            ingested = matches[INGESTED].min()
            if isinstance(ingested, datetime):
                self.metrics.alert_latency.observe((now - ingested).total_seconds())
        if background and self._store_writer is not None:
            self._store_writer.submit(frame, first, last)
        else:
            with stage.labels("store").time():
                self.store.write(frame, first, last)
            self._advance(last)
        self.read_position = last
        records = frame.height + len(decoded.rejected)
        if records:
            size = sum(len(c.payload) for c in chunks) / records
            size = min(max(size, MIN_EVENT_BYTES), MAX_EVENT_BYTES)
            self.bytes_per_event = 0.8 * self.bytes_per_event + 0.2 * size
        self._count(chunks, frame.height, matches.height, stats.created, decoded)
        return BatchResult(first, last, frame.height, matches.height, stats.created,
                           len(decoded.rejected))

    def _advance(self, last: int) -> None:
        self.spool.release(last)
        with self.processed:
            self.position = last
            self.processed.notify_all()

    def _enricher(self) -> AssetEnricher:
        version = self.assets.version
        if self._asset_frame is None or self._asset_frame[0] != version:
            self._asset_frame = (version, AssetEnricher(self.assets.frame()))
        return self._asset_frame[1]

    def _count(
        self, chunks: Sequence[Chunk], events: int, matches: int, alerts: int, decoded: Decoded
    ) -> None:
        m = self.metrics
        m.batches.inc()
        m.events_stored.inc(events)
        m.matches.inc(matches)
        m.records_rejected.inc(len(decoded.rejected))
        m.spool_backlog.set(self.spool.backlog_bytes)
        m.rules_loaded.set(len(self.rules.active.rules))
        oldest = chunks[0].received
        m.lag.set(max(0.0, (datetime.now(UTC) - oldest).total_seconds()))
        if alerts:
            m.alerts_created.inc(alerts)


def _grouping(rules: Callable[[Rule], Grouping]) -> Callable[[Rule], Grouping]:
    """Indicator matches group by indicator and host; rules as their settings say."""
    return lambda rule: INTEL_GROUPING if rule.id.startswith(INTEL_PREFIX) else rules(rule)

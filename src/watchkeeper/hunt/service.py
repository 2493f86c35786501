"""Run a hunt: read the inputs batch by batch, evaluate, yield matches.

Memory is bounded by the batch size: a batch is read, evaluated and dropped
before the next one (a reader thread keeps at most two batches ahead, so that
parsing and evaluation overlap on two cores).
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl

from watchkeeper.detection.cache import RuleCache
from watchkeeper.detection.check import split_routable
from watchkeeper.detection.engine import Engine
from watchkeeper.detection.exclusions import apply_exclusions, load_exclusions
from watchkeeper.detection.fields import FieldAliases
from watchkeeper.detection.logsource import LogSourceMapping
from watchkeeper.detection.rules import Rule, RuleLoader, load_placeholders
from watchkeeper.events.model import LINE, OFFSET, RESERVED, SOURCE, TIMESTAMP
from watchkeeper.hunt.options import HuntOptions, select_rules
from watchkeeper.hunt.summary import HuntSummary
from watchkeeper.parsers import InputFile, ParsedChunk, read_paths

RECORD_ID_FIELDS = ("EventRecordID", "record_id", "serial", "eventID")


@dataclass(slots=True)
class HuntMatch:
    rule: Rule
    timestamp: dt.datetime | None
    source: str
    record_id: str | None
    line: int | None
    offset: int | None
    event: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The ``jsonl`` contract of ``watchkeeper hunt``."""
        return {
            "rule_id": self.rule.id,
            "rule_title": self.rule.title,
            "level": self.rule.level,
            "tags": list(self.rule.tags),
            "timestamp": self.timestamp.isoformat().replace("+00:00", "Z")
            if self.timestamp
            else None,
            "source": self.source,
            "record_id": self.record_id,
            "line": self.line,
            "offset": self.offset,
            "event": self.event,
        }


class Hunt:
    """Loads and selects rules once; :meth:`run` then evaluates them over the inputs."""

    def __init__(self, options: HuntOptions) -> None:
        self.options = options
        placeholders = load_placeholders(options.placeholders) if options.placeholders else None
        cache = RuleCache(options.rule_cache) if options.rule_cache else None
        ruleset = RuleLoader(placeholders, cache).load(options.rules, options.filters)
        mapping = LogSourceMapping.with_overrides(list(options.mappings))
        routed, failed = split_routable(ruleset, mapping)
        selected = select_rules(routed, options)
        self.rules, stale = apply_exclusions(selected, load_exclusions(list(options.exclusions)))
        self.engine = Engine(self.rules, mapping, FieldAliases.default())
        self.summary = HuntSummary(
            rules_loaded=len(routed),
            rules_selected=len(self.rules),
            rules_failed=failed,
            fallback_rules=len(self.engine.fallback_rules),
            stale_exclusions=[f"{e.where} ({e.reason})" if e.reason else e.where for e in stale],
        )

    def run(
        self,
        on_input: Callable[[InputFile], None] | None = None,
        on_batch: Callable[[int], None] | None = None,
    ) -> Iterator[HuntMatch]:
        """Matches as they are found; ``on_input`` is told of each file as it starts,
        ``on_batch`` of the size of each batch read (for progress displays)."""
        def seen(item: InputFile) -> None:
            self.summary.files += 1
            if on_input:
                on_input(item)

        chunks = read_paths(
            self.options.paths,
            format=self.options.log_format,
            batch_size=self.options.batch_size,
            on_input=seen,
        )
        if self.options.workers > 1:
            chunks = _read_ahead(chunks)
        for chunk in chunks:
            self.summary.add_skips(chunk.skipped)
            frame = chunk.frame
            self.summary.events += frame.height
            if on_batch:
                on_batch(frame.height)
            frame = self._in_range(frame)
            self.summary.events_in_range += frame.height
            matches = self.engine.evaluate(frame)
            if matches.height:
                yield from self._matches(frame, matches)

    def _in_range(self, frame: pl.DataFrame) -> pl.DataFrame:
        start, end = self.options.time_from, self.options.time_to
        if start is None and end is None:
            return frame
        if TIMESTAMP not in frame.columns:
            return frame.clear()
        time = pl.col(TIMESTAMP)
        condition = time.is_not_null()
        if start is not None:
            condition &= time >= start
        if end is not None:
            condition &= time <= end
        return frame.filter(condition)

    def _matches(self, frame: pl.DataFrame, matches: pl.DataFrame) -> Iterator[HuntMatch]:
        rows = matches.get_column("row").unique(maintain_order=True)
        position = {int(r): i for i, r in enumerate(rows.to_list())}
        events = frame[rows].to_dicts()
        for row, rule_index in matches.iter_rows():
            record = events[position[row]]
            rule = self.rules[rule_index]
            self.summary.add_match(rule)
            yield HuntMatch(
                rule=rule,
                timestamp=record.get(TIMESTAMP),
                source=str(record.get(SOURCE) or ""),
                record_id=next(
                    (str(record[f]) for f in RECORD_ID_FIELDS if record.get(f) is not None), None
                ),
                line=record.get(LINE),
                offset=record.get(OFFSET),
                event={k: v for k, v in record.items() if v is not None and k not in RESERVED},
            )


_DONE = object()


def _read_ahead(chunks: Iterator[ParsedChunk], depth: int = 2) -> Iterator[ParsedChunk]:
    """Parse in a thread, at most ``depth`` batches ahead of the evaluation."""
    box: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        box.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(_DONE)
        except BaseException as error:  # handed to the consumer, which re-raises it
            box.put(error)

    thread = threading.Thread(target=produce, name="watchkeeper-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = box.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, ParsedChunk)
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)

"""Retro-hunt: stored events of the last N days searched for indicators that arrived after
them.

New active indicators are those not yet hunted (``hunted_at`` null) that a matcher swapped
in at least :data:`GRACE` ago holds, and so every matcher since: every batch matched
without them is in the event store by then, so the hunt sees it, and every later batch is
matched with them. They are compiled into a matcher of their own and the event store is
read one day at a time, only the columns matching and alerting need and only rows where
one of those columns is set. Hits become alerts exactly as in the pipeline, marked
``retro_hunt``; a (rule, event) pair already counted — the pipeline matched the event
live — adds nothing, so a hunt that is interrupted and run again never duplicates an
alert.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl
from sqlalchemy import select, update

from watchkeeper.alerts.writer import AlertWriter, match_columns, match_rows
from watchkeeper.intel.matcher import Matcher
from watchkeeper.intel.service import GROUPING, IntelService
from watchkeeper.intel.store import CHUNK
from watchkeeper.intel.store_model import IndicatorRow
from watchkeeper.search.columns import quote_identifier
from watchkeeper.store.base import RELATION, EventStore

log = logging.getLogger(__name__)
MAX_INDICATORS = 50_000
"""Indicators per hunt; a larger import is hunted over several passes."""
DAY = timedelta(days=1)
COMMIT_MARGIN = timedelta(seconds=30)
"""Longer than an import part takes from its time stamp to its commit."""
GRACE = timedelta(seconds=30)
"""How long the live matcher must have held new indicators before they are hunted: longer
than a batch takes from matching to the event store."""


@dataclass(slots=True)
class HuntReport:
    indicators: int = 0
    events_read: int = 0
    hits: int = 0
    alerts: int = 0


def retro_hunt(intel: IntelService, store: EventStore, days: int,
               now: datetime | None = None, grace: timedelta = GRACE,
               margin: timedelta = COMMIT_MARGIN) -> HuntReport:
    """Hunt the indicators not hunted yet through the last ``days`` of events."""
    now = now or datetime.now(UTC)
    report = HuntReport()
    held = [read for read, since in intel.history if now - since >= grace]
    if not held:
        return report
    # rows changed before that snapshot read the store, with room for an import part
    # that took its time stamp before it committed
    cutoff = max(held) - margin
    with intel.db.read() as session:  # every few seconds: no write lock when idle
        rows = session.execute(
            select(IndicatorRow.id, IndicatorRow.kind, IndicatorRow.value)
            .where(IndicatorRow.active.is_(True), IndicatorRow.hunted_at.is_(None),
                   IndicatorRow.updated_at <= cutoff)
            .order_by(IndicatorRow.id).limit(MAX_INDICATORS)).all()
    if not rows:
        return report
    ids = [r[0] for r in rows]
    report.indicators = len(ids)
    if days > 0:
        frame = pl.DataFrame({"id": ids, "kind": [r[1] for r in rows],
                              "value": [r[2] for r in rows]},
                             schema={"id": pl.Int64, "kind": pl.String, "value": pl.String})
        _hunt(intel, store, Matcher(frame, intel.fields), days, now, report)
    with intel.db.session() as session:
        for start in range(0, len(ids), CHUNK):
            session.execute(update(IndicatorRow).where(
                IndicatorRow.id.in_(ids[start:start + CHUNK])).values(hunted_at=now))
    if report.alerts:
        log.info("retro-hunt raised alerts", extra={
            "indicators": report.indicators, "hits": report.hits, "alerts": report.alerts})
    return report


def _hunt(intel: IntelService, store: EventStore, matcher: Matcher, days: int, now: datetime,
          report: HuntReport) -> None:
    present = store.columns()
    fields = sorted({f for fs in matcher.fields.values() for f in fs if f in present})
    if not fields or "@timestamp" not in present:
        return
    wanted = [c for c in dict.fromkeys([*match_columns([GROUPING]), *fields]) if c in present]
    columns = ", ".join(quote_identifier(c) for c in wanted)
    any_set = " OR ".join(f"{quote_identifier(f)} IS NOT NULL" for f in fields)
    when = quote_identifier("@timestamp")
    # identifiers are quoted names of stored columns; every value is a parameter
    sql = (f"SELECT {columns} FROM {RELATION} WHERE {when} >= ? "  # noqa: S608
           f"AND {when} < ? AND ({any_set})")
    writer = AlertWriter()
    end = now
    start = now - timedelta(days=days)
    while end > start:
        begin = max(start, end - DAY)
        events = store.query(sql, [begin, end])
        end = begin
        report.events_read += events.height
        if events.height == 0:
            continue
        hits = intel.match(events, matcher)
        if hits.height == 0:
            continue
        report.hits += hits.height
        empty = match_rows(events, None, [GROUPING])
        with intel.db.session() as session:
            rules, matches = intel.with_matches(session, events, hits, [], empty, [GROUPING],
                                                retro=True)
            stats = writer.record(session, matches, rules, lambda _: GROUPING)
            latest = _latest(events, hits)
            intel.record_seen(session, stats.counted, now, latest)
        report.alerts += stats.created


def _latest(events: pl.DataFrame, hits: pl.DataFrame) -> dict[int, datetime]:
    """The newest event each indicator was found in: when it was last seen."""
    if "@timestamp" not in events.columns:
        return {}
    stamps = hits.select("indicator", events["@timestamp"].gather(hits["row"]).alias("at"))
    newest = stamps.group_by("indicator").agg(pl.col("at").max()).drop_nulls("at")
    return {int(i): at if at.tzinfo else at.replace(tzinfo=UTC)
            for i, at in newest.iter_rows() if isinstance(at, datetime)}

"""Running a search against an event store: the rows, the total, the histogram.

Shared by ``GET /api/v1/events``, the web UI's search page and ``watchkeeper search``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from watchkeeper.search.histogram import compile_histogram
from watchkeeper.search.request import (
    SearchRequest,
    TimeRange,
    compile_count,
    compile_search,
    compile_time_bounds,
)
from watchkeeper.store.base import EventStore

RELATION = "events"


@dataclass(frozen=True, slots=True)
class SearchResult:
    kind: str
    """``rows`` (events) or ``stats`` (group counts)."""
    columns: list[str]
    rows: list[dict[str, Any]]
    total: int
    """Events matching the filter and time range (pipes aside)."""
    took_ms: float


def run_search(store: EventStore, request: SearchRequest) -> SearchResult:
    started = time.perf_counter()
    columns = store.columns()
    compiled = compile_search(request, RELATION, columns)
    frame = store.query(compiled.sql, compiled.params)
    counted = compile_count(request, RELATION, columns)
    total = store.query(counted.sql, counted.params)
    rows = frame.to_dicts()
    shown = compiled.columns or _present(frame.columns, rows)
    return SearchResult(
        compiled.kind,
        shown,
        rows,
        int(total.item(0, 0)) if total.height else 0,
        round((time.perf_counter() - started) * 1000, 1),
    )


def run_histogram(
    store: EventStore, request: SearchRequest, buckets: int = 60
) -> list[dict[str, Any]]:
    """Counts per time bucket over the request's range; an open range is closed with the
    first and last matching event."""
    columns = store.columns()
    start, end = request.time.start, request.time.end
    if start is None or end is None:
        bounds = compile_time_bounds(request, RELATION, columns)
        found = store.query(bounds.sql, bounds.params)
        first, last = (found.row(0) if found.height else (None, None))
        if not isinstance(first, datetime) or not isinstance(last, datetime):
            return []
        start = start or first
        end = end or last + timedelta(microseconds=1)
    request = replace(request, time=TimeRange(start, end))
    compiled = compile_histogram(request, RELATION, columns, buckets)
    return store.query(compiled.sql, compiled.params).to_dicts()


def _present(columns: list[str], rows: list[dict[str, Any]]) -> list[str]:
    """Columns with at least one value on this page, the time and source first."""
    filled = [c for c in columns if any(row.get(c) is not None for row in rows)]
    first = [c for c in ("@timestamp", "event.dataset", "host.name") if c in filled]
    return first + [c for c in filled if c not in first]

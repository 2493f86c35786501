"""Event counts per time bucket, for the bar chart above search results.

The bucket width is a round interval (1s, 5s, … 1h, … 1d) chosen so that the time
range holds at most the number of buckets asked for. Buckets are aligned to whole
multiples of the width since 1970-01-01 UTC, so hours start on the hour and days at
midnight UTC, and empty buckets are returned with a count of 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from watchkeeper.search.columns import TIMESTAMP, Columns
from watchkeeper.search.errors import QueryError
from watchkeeper.search.request import (
    COUNT,
    CompiledQuery,
    SearchRequest,
    TimeRange,
    compile_filter,
    statement,
)
from watchkeeper.search.values import as_utc

MAX_BUCKETS = 1_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECONDS = (
    1, 5, 10, 30,
    60, 5 * 60, 10 * 60, 30 * 60,
    3600, 3 * 3600, 6 * 3600, 12 * 3600,
    86400, 7 * 86400, 30 * 86400, 365 * 86400,
)  # fmt: skip


def histogram_interval(time: TimeRange, buckets: int = 60) -> timedelta:
    """The bucket width :func:`compile_histogram` uses for ``time`` and ``buckets``."""
    return timedelta(seconds=_plan(time, buckets)[2])


def compile_histogram(
    request: SearchRequest, relation: str, columns: Mapping[str, str], buckets: int = 60
) -> CompiledQuery:
    """Counts of matching events per bucket over the request's time range, oldest first.

    Both ends of the time range are required; fill open ends first with
    :func:`~watchkeeper.search.request.compile_time_bounds` if need be.
    Columns: ``bucket`` (the bucket's start, a UTC timestamp) and ``count``.
    """
    first, last, seconds = _plan(request.time, buckets)
    known = Columns(columns)
    flt = compile_filter(request, known)
    timestamp = known.get(TIMESTAMP).sql
    micros = seconds * 1_000_000
    counts = statement(
        f"CAST(floor(epoch_us({timestamp}) / ?) AS BIGINT) AS k, count(*) AS n",
        relation,
        flt.where,
        " GROUP BY 1",
    )
    select = f'to_timestamp(r.k * ?) AS "bucket", coalesce(c.n, 0) AS "{COUNT}"'
    source = f"range(?, ?) AS r(k) LEFT JOIN ({counts}) AS c ON c.k = r.k"
    sql = f"SELECT {select} FROM {source} ORDER BY r.k"  # noqa: S608 -- see statement()
    params: list[object] = [seconds, first, last + 1, micros, *flt.params]
    return CompiledQuery(sql, params, "rows", ["bucket", COUNT])


def _plan(time: TimeRange, buckets: int) -> tuple[int, int, int]:
    """The first and last bucket numbers and the width in seconds."""
    if isinstance(buckets, bool) or not isinstance(buckets, int) or not 1 <= buckets <= MAX_BUCKETS:
        raise QueryError(f"buckets must be a whole number from 1 to {MAX_BUCKETS}, not {buckets!r}")
    if time.start is None or time.end is None:
        raise QueryError("a histogram needs a time range with a start and an end")
    start, end = as_utc(time.start), as_utc(time.end)
    if start >= end:
        raise QueryError("the time range must start before it ends")
    start_us = _micros(start)
    last_us = _micros(end) - 1
    for seconds in _SECONDS:
        first, last = _bucket_numbers(start_us, last_us, seconds)
        if last - first + 1 <= buckets:
            return first, last, seconds
    seconds = _SECONDS[-1]
    while True:  # beyond a year, doubling: a handful of steps for any datetime range
        seconds *= 2
        first, last = _bucket_numbers(start_us, last_us, seconds)
        if last - first + 1 <= buckets:
            return first, last, seconds


def _bucket_numbers(start_us: int, last_us: int, seconds: int) -> tuple[int, int]:
    width = seconds * 1_000_000
    return start_us // width, last_us // width


def _micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds

"""Time histograms: round bucket widths, aligned buckets, zeros, the filter applied."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.search.store import COLUMNS, at, run
from watchkeeper.search import (
    QueryError,
    SearchRequest,
    TimeRange,
    compile_histogram,
    histogram_interval,
)

DAY = TimeRange(at("2024-05-01T00:00:00"), at("2024-05-02T00:00:00"))


def test_hourly_buckets_over_a_day(db: duckdb.DuckDBPyConnection) -> None:
    compiled = compile_histogram(SearchRequest(time=DAY), "events", COLUMNS, buckets=24)
    assert compiled.columns == ["bucket", "count"]
    rows = run(db, compiled)
    assert len(rows) == 24
    assert rows[0]["bucket"] == at("2024-05-01T00:00:00")
    assert rows[-1]["bucket"] == at("2024-05-01T23:00:00")
    counts = {row["bucket"].hour: row["count"] for row in rows if row["count"]}
    assert counts == {10: 2, 11: 1}
    assert sum(row["count"] for row in rows) == 3


def test_the_filter_applies(db: duckdb.DuckDBPyConnection) -> None:
    request = SearchRequest("user.name:admin", DAY)
    rows = run(db, compile_histogram(request, "events", COLUMNS))
    assert len(rows) == 48
    assert [(row["bucket"], row["count"]) for row in rows if row["count"]] == [
        (at("2024-05-01T10:00:00"), 1)
    ]


def test_unaligned_ranges_get_aligned_buckets(db: duckdb.DuckDBPyConnection) -> None:
    span = TimeRange(at("2024-04-30T23:59:30"), at("2024-05-01T10:00:30"))
    assert histogram_interval(span, 60) == timedelta(minutes=30)
    rows = run(db, compile_histogram(SearchRequest(time=span), "events", COLUMNS))
    assert rows[0]["bucket"] == at("2024-04-30T23:30:00")
    assert rows[-1]["bucket"] == at("2024-05-01T10:00:00")
    assert [row["count"] for row in rows if row["count"]] == [1, 1]


@pytest.mark.parametrize(
    ("span", "buckets", "width"),
    [
        (timedelta(seconds=30), 60, timedelta(seconds=1)),
        (timedelta(hours=1), 60, timedelta(minutes=1)),
        (timedelta(hours=1), 59, timedelta(minutes=5)),
        (timedelta(days=1), 60, timedelta(minutes=30)),
        (timedelta(days=1), 24, timedelta(hours=1)),
        (timedelta(days=7), 60, timedelta(hours=3)),
        (timedelta(days=30), 60, timedelta(hours=12)),
        (timedelta(days=31), 60, timedelta(days=1)),
        (timedelta(days=365), 60, timedelta(days=7)),
        (timedelta(days=365 * 30), 60, timedelta(days=365)),
        (timedelta(days=365 * 30), 10, timedelta(days=365 * 4)),
    ],
)
def test_round_widths(span: timedelta, buckets: int, width: timedelta) -> None:
    start = at("2024-01-01T00:00:00")
    assert histogram_interval(TimeRange(start, start + span), buckets) == width


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(datetime(1971, 1, 1), datetime(2100, 1, 1)),
    span=st.timedeltas(timedelta(microseconds=1), timedelta(days=20_000)),
    buckets=st.integers(1, 1000),
)
def test_never_more_buckets_than_asked(start: datetime, span: timedelta, buckets: int) -> None:
    begin = start.replace(tzinfo=UTC)
    width = histogram_interval(TimeRange(begin, begin + span), buckets)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    first = (begin - epoch) // width
    last = (begin + span - timedelta(microseconds=1) - epoch) // width
    assert last - first + 1 <= buckets


@pytest.mark.parametrize(
    ("time", "buckets", "message"),
    [
        (
            TimeRange(None, at("2024-05-01T00:00:00")),
            60,
            "needs a time range with a start and an end",
        ),
        (TimeRange(at("2024-05-01T00:00:00"), None), 60, "needs a time range"),
        (TimeRange(at("2024-05-02T00:00:00"), at("2024-05-01T00:00:00")), 60, "start before"),
        (DAY, 0, "buckets must be a whole number from 1 to 1000"),
        (DAY, 1001, "buckets must be"),
        (DAY, True, "buckets must be"),
    ],
)
def test_refusals(time: TimeRange, buckets: int, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        compile_histogram(SearchRequest(time=time), "events", COLUMNS, buckets)

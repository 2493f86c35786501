"""Pipes, sorting and paging, run against DuckDB."""

from __future__ import annotations

import re

import duckdb
import pytest

from tests.search.store import COLUMNS, run
from watchkeeper.search import MAX_ROWS, QueryError, SearchRequest, compile_count, compile_search


def search(
    db: duckdb.DuckDBPyConnection, query: str, **options: object
) -> list[tuple[object, ...]]:
    compiled = compile_search(SearchRequest(query, **options), "events", COLUMNS)  # type: ignore[arg-type]
    return [tuple(row.values()) for row in run(db, compiled)]


def order(db: duckdb.DuckDBPyConnection, query: str, **options: object) -> list[str]:
    compiled = compile_search(SearchRequest(query, **options), "events", COLUMNS)  # type: ignore[arg-type]
    return [row["event.id"] for row in run(db, compiled)]


def test_default_order_is_newest_first_with_missing_times_last(
    db: duckdb.DuckDBPyConnection,
) -> None:
    assert order(db, "") == ["e4", "e3", "e2", "e1", "e5", "e6"]
    assert order(db, "", descending=False) == ["e5", "e1", "e2", "e3", "e4", "e6"]


def test_pages_do_not_overlap(db: duckdb.DuckDBPyConnection) -> None:
    pages = [order(db, "", limit=2, offset=offset) for offset in (0, 2, 4, 6)]
    assert pages == [["e4", "e3"], ["e2", "e1"], ["e5", "e6"], []]


def test_request_sort_field(db: duckdb.DuckDBPyConnection) -> None:
    assert order(db, "", sort="log.offset", descending=False) == [
        "e4",
        "e6",
        "e3",
        "e1",
        "e2",
        "e5",
    ]
    assert order(db, "", sort="log.offset") == ["e2", "e1", "e3", "e6", "e4", "e5"]
    with pytest.raises(
        QueryError, match=re.escape("unknown field 'log.ofset'; did you mean 'log.offset'")
    ):
        order(db, "", sort="log.ofset")


def test_sort_pipe_wins_over_the_request(db: duckdb.DuckDBPyConnection) -> None:
    assert order(db, "| sort log.offset asc", sort="user.name") == [
        "e4",
        "e6",
        "e3",
        "e1",
        "e2",
        "e5",
    ]
    assert order(db, "| sort event.dataset desc, log.offset") == [
        "e1",
        "e2",
        "e3",
        "e6",
        "e5",
        "e4",
    ]


def test_head_caps_all_pages(db: duckdb.DuckDBPyConnection) -> None:
    assert order(db, "| sort log.offset | head 3") == ["e4", "e6", "e3"]
    assert order(db, "| sort log.offset | head 3", limit=2, offset=2) == ["e3"]
    assert order(db, "| sort log.offset | head 3", limit=2, offset=4) == []
    assert order(db, "| head 0") == []
    assert order(db, "| head 10", limit=1) == ["e4"]


def test_fields_and_sort_in_either_order(db: duckdb.DuckDBPyConnection) -> None:
    first = search(db, "log.offset:* | fields event.id | sort log.offset | head 2")
    second = search(db, "log.offset:* | sort log.offset | head 2 | fields event.id")
    assert first == second == [("e4",), ("e6",)]


def test_fields_projects_columns(db: duckdb.DuckDBPyConnection) -> None:
    compiled = compile_search(
        SearchRequest("event.dataset:windows.* | fields event.id, user.name, event.id"),
        "events",
        COLUMNS,
    )
    assert compiled.kind == "rows"
    assert compiled.columns == ["event.id", "user.name"]
    rows = [tuple(row.values()) for row in run(db, compiled)]
    assert rows == [("e3", "alice"), ("e2", "admin"), ("e1", "Administrator")]


def test_stats_counts_groups_largest_first(db: duckdb.DuckDBPyConnection) -> None:
    compiled = compile_search(SearchRequest("| stats count by event.dataset"), "events", COLUMNS)
    assert compiled.kind == "stats"
    assert compiled.columns == ["event.dataset", "count"]
    assert [tuple(row.values()) for row in run(db, compiled)] == [
        ("syslog", 2),
        ("windows.sysmon", 2),
        ("linux.auditd", 1),
        ("windows.security", 1),
    ]


def test_stats_with_filter_several_fields_sort_and_head(db: duckdb.DuckDBPyConnection) -> None:
    assert search(db, "| stats count") == [(6,)]
    assert search(db, "process.name:* | stats count by event.dataset, EventID | head 2") == [
        ("syslog", None, 2),
        ("windows.sysmon", "1", 2),
    ]
    assert search(db, "| stats count() by event.dataset | sort event.dataset desc | head 2") == [
        ("windows.sysmon", 2),
        ("windows.security", 1),
    ]
    assert search(db, "| stats count by event.dataset | sort count asc", limit=2) == [
        ("linux.auditd", 1),
        ("windows.security", 1),
    ]
    assert search(db, "| stats count by event.dataset", limit=2, offset=3) == [
        ("windows.security", 1)
    ]


def test_stats_sort_must_name_a_group_or_count() -> None:
    with pytest.raises(QueryError, match="after stats, sort by 'count' or a group field") as caught:
        compile_search(
            SearchRequest("| stats count by user.name | sort log.offset"), "events", COLUMNS
        )
    assert caught.value.column == 35


def test_unknown_fields_in_pipes() -> None:
    for query in ("| fields usr.name", "| stats count by usr.name", "| sort usr.name"):
        with pytest.raises(
            QueryError, match=re.escape("unknown field 'usr.name'; did you mean 'user.name'")
        ):
            compile_search(SearchRequest(query), "events", COLUMNS)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"limit": -1}, "limit must be a whole number of 0 or more"),
        ({"offset": -5}, "offset must be a whole number"),
        ({"limit": True}, "limit must be"),
        ({"limit": 2.5}, "limit must be"),
        ({"offset": "3"}, "offset must be"),
    ],
)
def test_bad_paging_is_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(QueryError, match=message) as caught:
        compile_search(SearchRequest(**options), "events", COLUMNS)  # type: ignore[arg-type]
    assert caught.value.http_status == 400
    stats = SearchRequest("| stats count by user.name", **options)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match=message):
        compile_search(stats, "events", COLUMNS)


def test_limits_are_capped() -> None:
    compiled = compile_search(SearchRequest(limit=50_000, offset=7), "events", COLUMNS)
    assert compiled.params[-2:] == [MAX_ROWS, 7]
    headed = compile_search(SearchRequest("| head 123456"), "events", COLUMNS)
    assert headed.params[-2:] == [100, 0]
    headed = compile_search(SearchRequest("| head 123456", limit=20_000), "events", COLUMNS)
    assert headed.params[-2:] == [MAX_ROWS, 0]


def test_count_ignores_pipes_and_paging(db: duckdb.DuckDBPyConnection) -> None:
    compiled = compile_count(
        SearchRequest("event.dataset:windows.* | head 1", limit=1, offset=2), "events", COLUMNS
    )
    assert compiled.columns == ["count"]
    assert run(db, compiled) == [{"count": 3}]
    assert run(db, compile_count(SearchRequest(), "events", COLUMNS)) == [{"count": 6}]

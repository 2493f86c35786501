"""The shape of the compiled SQL and its parameters, and what the compiler refuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.search.store import COLUMNS
from watchkeeper.search import (
    QueryError,
    SearchRequest,
    TimeRange,
    compile_count,
    compile_search,
    compile_time_bounds,
)
from watchkeeper.search.columns import column_kind, quote_identifier

ESC = "ESCAPE '\\'"


def where(query: str) -> tuple[str, list[object]]:
    """The WHERE clause of a rows query and the filter's parameters (paging dropped)."""
    compiled = compile_search(SearchRequest(query), "events", COLUMNS)
    assert compiled.params[-2:] == [100, 0]
    body = compiled.sql.split(" WHERE ", 1)[1].split(" ORDER BY ", 1)[0]
    return body, compiled.params[:-2]


def test_rows_statement() -> None:
    compiled = compile_search(
        SearchRequest("user.name:adm*", limit=10, offset=20), "events", COLUMNS
    )
    assert compiled.sql == (
        f'SELECT * FROM events WHERE ("user.name" ILIKE ? {ESC}) '
        'ORDER BY "@timestamp" DESC NULLS LAST, "event.id" DESC NULLS LAST LIMIT ? OFFSET ?'
    )
    assert compiled.params == ["adm%", 10, 20]
    assert compiled.kind == "rows"
    assert compiled.columns is None


def test_empty_query_has_a_true_condition() -> None:
    assert where("") == ("TRUE", [])


def test_stats_statement() -> None:
    compiled = compile_search(SearchRequest("| stats count by user.name, EventID"), "v", COLUMNS)
    assert compiled.sql == (
        'SELECT "user.name", "EventID", count(*) AS "count" FROM v WHERE TRUE '
        'GROUP BY "user.name", "EventID" ORDER BY "count" DESC NULLS LAST, '
        '"user.name" ASC NULLS LAST, "EventID" ASC NULLS LAST LIMIT ? OFFSET ?'
    )
    assert compiled.kind == "stats"
    assert compiled.columns == ["user.name", "EventID", "count"]


def test_count_and_bounds_statements() -> None:
    request = SearchRequest("alice", TimeRange(datetime(2024, 1, 1, tzinfo=UTC), None))
    count = compile_count(request, "events", COLUMNS)
    assert count.sql == (
        'SELECT count(*) AS "count" FROM events WHERE "@timestamp" >= ? AND '
        f'("event.original" ILIKE ? {ESC})'
    )
    assert count.params == [datetime(2024, 1, 1, tzinfo=UTC), "%alice%"]
    bounds = compile_time_bounds(request, "events", COLUMNS)
    assert bounds.sql.startswith('SELECT min("@timestamp") AS "first", max("@timestamp") AS "last"')
    assert bounds.columns == ["first", "last"]


@pytest.mark.parametrize(
    ("query", "sql", "params"),
    [
        ("f:*", None, None),
        ("user.name:*", '("user.name" IS NOT NULL)', []),
        ("NOT user.name:x", f'(NOT coalesce(("user.name" ILIKE ? {ESC}), FALSE))', ["x"]),
        ("log.offset:5", '("log.offset" = ?)', [5]),
        ("log.offset:5.5", '("log.offset" = ?)', [5.5]),
        ("log.offset:5*", f'(CAST("log.offset" AS VARCHAR) ILIKE ? {ESC})', ["5%"]),
        ("log.offset>5", '("log.offset" > ?)', [5.0]),
        ("EventID>=5", '(TRY_CAST("EventID" AS DOUBLE) >= ?)', [5.0]),
        ("user.name<b", '(lower("user.name") < lower(?))', ["b"]),
        ("log.line:[1 TO 2}", '("log.line" >= ? AND "log.line" < ?)', [1.0, 2.0]),
        (
            "user.name:(a OR b OR c*)",
            f'((lower("user.name") IN (lower(?), lower(?))) OR ("user.name" ILIKE ? {ESC}))',
            ["a", "b", "c%"],
        ),
        (
            "@timestamp:2024-05-01",
            '("@timestamp" >= ? AND "@timestamp" < ?)',
            [datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC)],
        ),
        ("a_b%c", f'("event.original" ILIKE ? {ESC})', ["%a\\_b\\%c%"]),
        ('"x\\\\y"', f'("event.original" ILIKE ? {ESC})', ["%x\\\\y%"]),
    ],
)
def test_condition_shapes(query: str, sql: str | None, params: list[object] | None) -> None:
    if sql is None:
        with pytest.raises(QueryError, match="unknown field 'f'"):
            where(query)
        return
    assert where(query) == (sql, params)


def test_networks_compile_to_a_number_range() -> None:
    sql, params = where("source.ip:10.0.0.0/8")
    assert 'regexp_full_match("source.ip",' in sql
    assert params == [167772160, 184549375]


@pytest.mark.parametrize(
    ("query", "column", "message"),
    [
        ("proces.name:x", 1, "unknown field 'proces.name'; did you mean 'process.name'"),
        ("PROCESS.NAME:x", 1, "did you mean 'process.name'"),
        (
            "a x:1",
            3,
            "unknown field 'x'; to search for text that contains ':', put the text in quotes",
        ),
        (
            "log.offset:abc",
            12,
            "field 'log.offset' holds whole numbers: expected a number, found 'abc'",
        ),
        ("log.offset>abc", 12, "expected a number"),
        ("log.offset:[1 TO x]", 18, "expected a number, found 'x'"),
        ("@timestamp:yesterday", 12, "holds times: expected an ISO-8601 date or time"),
        ("@timestamp:2024-13-01", 12, "expected an ISO-8601"),
        ("@timestamp:2024*", 12, "expected an ISO-8601"),
        ("@timestamp>2024-05-01T10:00+25:00", 12, "expected an ISO-8601"),
        ("log.offset>1*", 12, "wildcards cannot be used in a comparison or range"),
        ("user.name:[a TO 5]", 12, "must both be numbers or both be text"),
        ("source.ip:fe80::/10", 11, "IPv6 networks are not supported"),
        ("log.offset:10.0.0.0/8", 12, "expected an exact value"),
    ],
)
def test_compile_errors_name_the_field_and_column(query: str, column: int, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        compile_search(SearchRequest(query), "events", COLUMNS)
    assert caught.value.column == column
    assert message in caught.value.message


def test_full_text_needs_the_raw_record() -> None:
    columns = {name: kind for name, kind in COLUMNS.items() if name != "event.original"}
    with pytest.raises(QueryError, match="searches the raw record"):
        compile_search(SearchRequest("alice"), "events", columns)
    assert compile_search(SearchRequest("user.name:alice"), "events", columns).params[0] == "alice"


def test_time_range_needs_a_timestamp_column() -> None:
    columns = {"user.name": "VARCHAR"}
    request = SearchRequest("", TimeRange(datetime(2024, 1, 1), None), sort="user.name")
    with pytest.raises(QueryError, match="unknown field '@timestamp'"):
        compile_search(request, "events", columns)
    assert compile_search(SearchRequest(sort="user.name"), "events", columns).sql.startswith(
        'SELECT * FROM events WHERE TRUE ORDER BY "user.name" DESC'
    )


def test_identifiers_are_quoted_and_checked() -> None:
    assert quote_identifier("process.name") == '"process.name"'
    assert quote_identifier('a"b') == '"a""b"'
    assert quote_identifier("Ünï cödé") == '"Ünï cödé"'
    for bad in ("", "a\nb", "a\x00b", "a\x7fb"):
        with pytest.raises(QueryError, match="field name"):
            quote_identifier(bad)
    with pytest.raises(QueryError, match="control characters"):
        compile_search(SearchRequest(sort="x\x01"), "events", {"x\x01": "VARCHAR"})


@pytest.mark.parametrize(
    ("type_name", "kind"),
    [
        ("VARCHAR", "text"),
        ("TIMESTAMP WITH TIME ZONE", "time"),
        ("timestamptz", "time"),
        ("DATE", "time"),
        ("BIGINT", "integer"),
        ("INTEGER", "integer"),
        ("UBIGINT", "integer"),
        ("INT64", "integer"),
        ("DOUBLE", "number"),
        ("DECIMAL(18,3)", "number"),
        ("BOOLEAN", "text"),
        ("VARCHAR[]", "text"),
    ],
)
def test_column_kinds(type_name: str, kind: str) -> None:
    assert column_kind(type_name) == kind

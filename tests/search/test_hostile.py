"""Values an attacker or an unlucky log line might hold are matched literally.

Whatever the value, the SQL text stays the same: the value travels only as a
parameter, and LIKE's own wildcards and escape character in it are escaped.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from watchkeeper.search import SearchRequest, compile_search

COLUMNS = {"f": "VARCHAR", "event.original": "VARCHAR", "@timestamp": "TIMESTAMP WITH TIME ZONE"}

# Everything but the query language's own wildcards; no NUL, which DuckDB strings refuse.
VALUES = st.text(
    st.characters(exclude_characters="*?\x00", exclude_categories=("Cs",)), max_size=40
)
HOSTILE = [
    "'; DROP TABLE t; --",
    "\"'; DROP TABLE t; --",
    "100%",
    "a_b",
    "%_%",
    "\\",
    "\\%",
    "C:\\Windows\\",
    "\\\\server\\share",
    "ärger ÄRGER",
    "日本語",
    "emoji 🛡️",
    '" OR 1=1 --',
    "$1 ?",
    "",
]


def quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture(scope="module")
def table() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute(
        'CREATE TABLE t ("f" VARCHAR, "event.original" VARCHAR, "@timestamp" TIMESTAMPTZ)'
    )
    yield connection
    connection.close()


def matches(connection: duckdb.DuckDBPyConnection, query: str, rows: list[str]) -> list[str]:
    connection.execute("DELETE FROM t")
    connection.executemany("INSERT INTO t VALUES (?, ?, NULL)", [[row, row] for row in rows])
    compiled = compile_search(SearchRequest(query), "t", COLUMNS)
    return sorted(row[0] for row in connection.execute(compiled.sql, compiled.params).fetchall())


def baseline(query: str) -> str:
    return compile_search(SearchRequest(query), "t", COLUMNS).sql


@settings(max_examples=150, deadline=None)
@given(value=VALUES)
@example(value="'; DROP TABLE t; --")
@example(value="50%_\\")
def test_quoted_field_values_are_literal(table: duckdb.DuckDBPyConnection, value: str) -> None:
    query = f"f:{quoted(value)}"
    assert baseline(query) == baseline('f:"x"')
    others = [value + "x", "x" + value, "zz" if value != "zz" else "yy"]
    found = matches(table, query, [value, *others])
    assert value in found
    assert all(other not in found or other.lower() == value.lower() for other in others)


@settings(max_examples=100, deadline=None)
@given(value=VALUES)
def test_phrases_are_literal_substrings(table: duckdb.DuckDBPyConnection, value: str) -> None:
    query = quoted(value)
    assert baseline(query) == baseline('"x"')
    haystack = f"<{value}>"
    found = matches(table, query, [haystack, "\x01"])
    assert haystack in found


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_quoted(table: duckdb.DuckDBPyConnection, value: str) -> None:
    query = f"f:{quoted(value)}"
    compiled = compile_search(SearchRequest(query), "t", COLUMNS)
    assert compiled.sql == baseline('f:"x"')
    if len(value) > 3:
        assert value not in compiled.sql
    assert matches(table, query, [value, value + "!", "!" + value]) == [value]


@pytest.mark.parametrize(
    "value",
    ["';DROP_TABLE_t;--", "100%", "a_b", "\\", "C:\\Windows\\x.exe", "ärger", "=1", "a'b", "%%"],
)
def test_hostile_values_unquoted(table: duckdb.DuckDBPyConnection, value: str) -> None:
    query = f"f:{value}"
    assert baseline(query) == baseline("f:x")
    assert matches(table, query, [value, value + "_", "%" + value]) == [value]


def test_case_folding_works_beyond_ascii(table: duckdb.DuckDBPyConnection) -> None:
    assert matches(table, 'f:"ÄRGER ÉTÉ"', ["ärger été", "arger ete"]) == ["ärger été"]
    assert matches(table, "f:(ÄRGER OR x)", ["ärger", "arger"]) == ["ärger"]


def test_the_table_survives(table: duckdb.DuckDBPyConnection) -> None:
    matches(table, 'f:"\'; DROP TABLE t; --"', ["a"])
    assert table.execute("SELECT count(*) FROM t").fetchone() == (1,)

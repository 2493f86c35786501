"""The parser: terms, precedence, escapes, pipes, and errors that name a column."""

from __future__ import annotations

import ipaddress

import pytest

from watchkeeper.errors import UsageError
from watchkeeper.search import QueryError, parse
from watchkeeper.search.ast import (
    And,
    Cidr,
    Compare,
    Exists,
    Field,
    Fields,
    FullText,
    Head,
    Match,
    Not,
    Or,
    Query,
    Range,
    Sort,
    SortKey,
    Stats,
    Value,
)
from watchkeeper.search.parser import MAX_DEPTH, MAX_QUERY_LENGTH


def m(field: str, value: str, quoted: bool = False) -> Match:
    return Match(Field(field), Value(value, quoted))


def text(value: str, quoted: bool = False) -> FullText:
    return FullText(Value(value, quoted))


def test_empty_query_selects_everything() -> None:
    assert parse("") == Query()
    assert parse("   ") == Query()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("process.name:cmd.exe", m("process.name", "cmd.exe")),
        ("user.name: admin", m("user.name", "admin")),
        ('f:"two words"', m("f", "two words", True)),
        ("url.full:http://x.test:8080/a?b=1", m("url.full", "http://x.test:8080/a?b=1")),
        ("source.ip:fe80::1", m("source.ip", "fe80::1")),
        (r"Image:C:\Windows\System32\cmd.exe", m("Image", r"C:\Windows\System32\cmd.exe")),
        (r"file.path:\\server\share\*", m("file.path", r"\\server\share\*")),
        ("f:*", Exists(Field("f"))),
        ('f:"*"', m("f", "*", True)),
        ("f:adm*", m("f", "adm*")),
        ("powershell", text("powershell")),
        ('"failed password"', text("failed password", True)),
        ("user=root", text("user=root")),
        ("a,b", text("a,b")),
        ("f>10", Compare(Field("f"), ">", Value("10"))),
        ("f >= 2.5", Compare(Field("f"), ">=", Value("2.5"))),
        ("f<-1", Compare(Field("f"), "<", Value("-1"))),
        ("f:<=7", Compare(Field("f"), "<=", Value("7"))),
        (
            "@timestamp>2024-05-01T10:00:00+02:00",
            Compare(Field("@timestamp"), ">", Value("2024-05-01T10:00:00+02:00")),
        ),
        ("f:[1 TO 5]", Range(Field("f"), Value("1"), Value("5"))),
        ("f:{1 to 5]", Range(Field("f"), Value("1"), Value("5"), False, True)),
        ("f:[* TO 5}", Range(Field("f"), None, Value("5"), True, False)),
        ('f:["a b" TO *]', Range(Field("f"), Value("a b", True), None)),
        (
            "source.ip:10.0.0.0/8",
            Cidr(Field("source.ip"), ipaddress.IPv4Network("10.0.0.0/8"), Value("10.0.0.0/8")),
        ),
        (
            "source.ip:10.1.2.3/8",
            Cidr(Field("source.ip"), ipaddress.IPv4Network("10.0.0.0/8"), Value("10.1.2.3/8")),
        ),
        ('source.ip:"10.0.0.0/8"', m("source.ip", "10.0.0.0/8", True)),
        ("f:a/b", m("f", "a/b")),
    ],
)
def test_terms(query: str, expected: object) -> None:
    assert parse(query).filter == expected


@pytest.mark.parametrize(
    ("query", "value"),
    [
        (r'f:"say \"hi\""', 'say "hi"'),
        (r'f:"C:\\Temp\\x"', "C:\\Temp\\x"),
        (r'f:"C:\Temp\x"', "C:\\Temp\\x"),
        (r'f:"\\\\server"', "\\\\server"),
        (r'f:"end\\"', "end\\"),
        ('f:"ünïcødé ✓"', "ünïcødé ✓"),
        ('f:""', ""),
    ],
)
def test_quoted_escapes(query: str, value: str) -> None:
    assert parse(query).filter == m("f", value, True)


def test_precedence_not_and_or() -> None:
    a, b, c, d = (m(name, "1") for name in "abcd")
    assert parse("a:1 OR b:1 AND c:1") == Query(Or((a, And((b, c)))))
    assert parse("a:1 OR b:1 c:1") == Query(Or((a, And((b, c)))))
    assert parse("NOT a:1 AND b:1") == Query(And((Not(a), b)))
    assert parse("NOT a:1 b:1 OR c:1 d:1") == Query(Or((And((Not(a), b)), And((c, d)))))
    assert parse("(a:1 OR b:1) c:1") == Query(And((Or((a, b)), c)))
    assert parse("NOT (a:1 OR b:1)") == Query(Not(Or((a, b))))
    assert parse("not not a:1") == Query(Not(Not(a)))


def test_keywords_in_any_case() -> None:
    assert parse("a:1 and b:1 or c:1") == parse("a:1 AND b:1 OR c:1")
    assert parse("a:1 And NoT b:1") == Query(And((m("a", "1"), Not(m("b", "1")))))


def test_keywords_are_values_after_a_colon() -> None:
    assert parse("f:AND").filter == m("f", "AND")
    assert parse('"and"').filter == text("and", True)


def test_field_group_expands_to_one_test_per_value() -> None:
    assert parse('f:(a OR b OR "c d")').filter == Or(
        (m("f", "a"), m("f", "b"), m("f", "c d", True))
    )
    assert parse("f:(a OR NOT (b AND c*))").filter == Or(
        (m("f", "a"), Not(And((m("f", "b"), m("f", "c*")))))
    )
    assert parse("ip:(10.0.0.0/8 OR 1.2.3.4)").filter == Or(
        (
            Cidr(Field("ip"), ipaddress.IPv4Network("10.0.0.0/8"), Value("10.0.0.0/8")),
            m("ip", "1.2.3.4"),
        )
    )


def test_columns_point_at_the_text() -> None:
    node = parse("  user.name:adm*").filter
    assert isinstance(node, Match)
    assert (node.field.column, node.value.column) == (3, 13)


def test_pipes() -> None:
    query = parse("a:1 | stats count by x, y | sort count asc, x DESC | head 5")
    assert query.filter == m("a", "1")
    assert query.pipes == (
        Stats((Field("x"), Field("y"))),
        Sort((SortKey(Field("count"), False), SortKey(Field("x"), True))),
        Head(5),
    )
    assert parse("| stats count()").pipes == (Stats(()),)
    assert parse("|fields a,b , c").pipes == (Fields((Field("a"), Field("b"), Field("c"))),)
    assert parse("| sort x").pipes == (Sort((SortKey(Field("x")),)),)
    assert parse("| head 99999999").pipes == (Head(10_000),)
    assert parse("| sort b | head 5 | fields a").pipes == (
        Sort((SortKey(Field("b")),)),
        Head(5),
        Fields((Field("a"),)),
    )


@pytest.mark.parametrize(
    ("query", "column", "message"),
    [
        ("a:", 3, "expected a value after ':', found the end of the query"),
        ("process.name: ", 15, "expected a value after ':'"),
        ("a AND", 6, "expected a search term, found the end of the query"),
        ("AND a", 1, "expected a search term, found 'AND'"),
        ("a OR OR b", 6, "expected a search term, found 'OR'"),
        ("(a:1", 5, "expected ')' for the '(' at column 1"),
        ("a:1)", 4, "this ')' closes no '('"),
        ("()", 2, "expected a search term, found ')'"),
        ('f:"abc', 3, "this quoted value has no closing '\"'"),
        ('"abc', 1, "no closing"),
        ('f:a"b"', 4, "a quote inside a value"),
        ("f>", 3, "expected a value after '>'"),
        ("f>>1", 3, "expected a value after '>', found '>'"),
        (":x", 1, "expected a search term, found ':'"),
        ("<script>", 1, "expected a search term, found '<'"),
        ("f:(a b)", 6, "expected OR, AND or ')' between the values of the '(' at column 3"),
        ("f:(a OR)", 8, "expected a value of f, found ')'"),
        ("f:(a", 5, "expected ')' for the '(' at column 3"),
        ("f:[1 5]", 6, "expected TO in the range, found '5'"),
        ("f:[1 TO 5", 10, "expected ']' or '}' to close the range"),
        ("f:[1 TO]", 8, "expected a value after 'TO'"),
        ("ip:10.0.0.0/33", 4, "'10.0.0.0/33' is not a valid network"),
        ("a |", 4, "expected a command after '|'"),
        ("a | bogus", 5, "unknown command 'bogus' after '|'; expected one of stats, sort, fields"),
        ("| stats sum(x)", 9, "expected 'count' after 'stats', found 'sum'"),
        ("| stats count by", 17, "expected a field name after 'by'"),
        ("| stats count(x)", 15, "expected ')' after 'count('"),
        ("| fields a,", 12, "expected a field name after ','"),
        ("| head -1", 8, "expected a whole number of rows after 'head', found '-1'"),
        ("| head ten", 8, "expected a whole number"),
        ("| head 5 | sort x", 12, "'sort' cannot come after 'head': sort first"),
        ("| head 5 | head 6", 12, "'head' may appear only once"),
        ("| sort a | fields b | sort c", 23, "'sort' may appear only once"),
        ("| stats count | fields a", 17, "'fields' cannot follow 'stats'"),
        ("| sort a | stats count", 12, "'stats' must be the first pipe"),
        ("| head 5 x", 10, "expected a pipe or the end of the query, found 'x'"),
    ],
)
def test_syntax_errors_name_the_column(query: str, column: int, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(query)
    assert isinstance(caught.value, UsageError)
    assert caught.value.http_status == 400
    assert caught.value.column == column
    assert message in caught.value.message
    assert str(caught.value).startswith(f"column {column}: ")


def test_overlong_and_overdeep_queries_are_refused() -> None:
    with pytest.raises(QueryError, match="longer than"):
        parse("a" * (MAX_QUERY_LENGTH + 1))
    with pytest.raises(QueryError, match="nested more than"):
        parse("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(QueryError, match="nested more than"):
        parse("NOT " * (MAX_DEPTH + 1) + "a")
    assert parse("(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH).filter == text("a")


def test_long_flat_queries_parse() -> None:
    query = " OR ".join(f"f:v{index}" for index in range(1000))
    node = parse(query).filter
    assert isinstance(node, Or)
    assert len(node.items) == 1000

"""The filter of a query as a parameterized SQL condition.

Every value the analyst typed becomes a ``?`` parameter; only quoted identifiers of
known columns and fixed fragments of this module are written into the SQL text. A
field test where the event lacks the field is false, and ``NOT`` turns it true, as in
Kibana and Splunk: ``NOT user.name:admin`` keeps events without a user.
"""

from __future__ import annotations

from collections.abc import Sequence

from watchkeeper.search import ast
from watchkeeper.search.columns import ORIGINAL, Column, Columns
from watchkeeper.search.errors import QueryError
from watchkeeper.search.values import (
    LIKE_ESCAPE,
    like_pattern,
    parse_integer,
    parse_number,
    parse_time,
)

_ESCAPE = f"ESCAPE '{LIKE_ESCAPE}'"
_TIME_HINT = "an ISO-8601 date or time such as 2024-05-01 or 2024-05-01T10:30:00Z"
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = r"\.".join([_OCTET] * 4)


class FilterCompiler:
    """Turns filter nodes into SQL text, collecting parameters in order of appearance."""

    def __init__(self, columns: Columns, params: list[object]) -> None:
        self.columns = columns
        self.params = params

    def compile(self, node: ast.Node) -> str:
        match node:
            case ast.And(items):
                return "(" + " AND ".join(self.compile(item) for item in items) + ")"
            case ast.Or(items):
                return self._or(items)
            case ast.Not(item):
                return f"(NOT coalesce({self.compile(item)}, FALSE))"
            case ast.Match(field, value):
                return self._match(self.columns.field(field), value)
            case ast.Exists(field):
                return f"({self.columns.field(field).sql} IS NOT NULL)"
            case ast.FullText(value):
                return self._full_text(value)
            case ast.Compare(field, op, value):
                return self._compare(self.columns.field(field), [(op, value)])
            case ast.Range(field, low, high, include_low, include_high):
                ends: list[tuple[ast.Comparator, ast.Value]] = []
                if low is not None:
                    ends.append((">=" if include_low else ">", low))
                if high is not None:
                    ends.append(("<=" if include_high else "<", high))
                column = self.columns.field(field)
                return self._compare(column, ends) if ends else f"({column.sql} IS NOT NULL)"
            case ast.Cidr(field, network, value):
                return self._cidr(self.columns.field(field), network, value)
        raise AssertionError(f"unknown node {node!r}")  # pragma: no cover

    def _param(self, value: object) -> str:
        self.params.append(value)
        return "?"

    def _like(self, sql: str, pattern: str) -> str:
        return f"({sql} ILIKE {self._param(pattern)} {_ESCAPE})"

    def _or(self, items: Sequence[ast.Node]) -> str:
        """OR of the items; plain values of one text field become one ``IN`` list."""
        groups: dict[str, list[ast.Value]] = {}
        others: list[ast.Node] = []
        for item in items:
            if isinstance(item, ast.Match) and not item.value.has_wildcards:
                column = self.columns.field(item.field)
                if column.kind == "text":
                    groups.setdefault(column.name, []).append(item.value)
                    continue
            others.append(item)
        parts: list[str] = []
        for name, values in groups.items():
            column = self.columns.get(name)
            if len(values) == 1:
                parts.append(self._match(column, values[0]))
                continue
            listed = ", ".join(f"lower({self._param(value.text)})" for value in values)
            parts.append(f"(lower({column.text_sql}) IN ({listed}))")
        parts.extend(self.compile(item) for item in others)
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def _match(self, column: Column, value: ast.Value) -> str:
        if column.kind == "text" or (value.has_wildcards and column.kind != "time"):
            return self._like(column.text_sql, like_pattern(value.text))
        if column.kind == "time":
            moment = parse_time(value.text)
            if moment is None or value.has_wildcards:
                raise _expected(column, _TIME_HINT, value)
            return (
                f"({column.sql} >= {self._param(moment.start)} "
                f"AND {column.sql} < {self._param(moment.end)})"
            )
        number: float | int | None = parse_integer(value.text)
        if number is None:
            number = parse_number(value.text)
        if number is None:
            raise _expected(column, "a number", value)
        return f"({column.sql} = {self._param(number)})"

    def _full_text(self, value: ast.Value) -> str:
        if ORIGINAL not in self.columns:
            raise QueryError(
                f"a bare word or phrase searches the raw record ({ORIGINAL}), which this store "
                "does not keep; search a field instead (field:value)",
                column=value.column or None,
            )
        column = self.columns.get(ORIGINAL)
        return self._like(column.text_sql, like_pattern(value.text, contains=True))

    def _compare(self, column: Column, ends: Sequence[tuple[ast.Comparator, ast.Value]]) -> str:
        """``column op value`` for each end of a comparison or range, joined with AND."""
        for _, value in ends:
            if value.has_wildcards:
                raise QueryError(
                    "wildcards cannot be used in a comparison or range", column=value.column
                )
        parts: list[str] = []
        if column.kind == "time":
            for op, value in ends:
                moment = parse_time(value.text)
                if moment is None:
                    raise _expected(column, _TIME_HINT, value)
                # A time covers its precision: ">2024-05-01" is after that whole day.
                sql_op, bound = {
                    ">": (">=", moment.end),
                    ">=": (">=", moment.start),
                    "<": ("<", moment.start),
                    "<=": ("<", moment.end),
                }[op]
                parts.append(f"{column.sql} {sql_op} {self._param(bound)}")
            return "(" + " AND ".join(parts) + ")"
        numbers = [parse_number(value.text) for _, value in ends]
        if column.kind != "text" or all(number is not None for number in numbers):
            for (op, value), number in zip(ends, numbers, strict=True):
                if number is None:
                    raise _expected(column, "a number", value)
                sql = column.sql if column.kind != "text" else f"TRY_CAST({column.sql} AS DOUBLE)"
                parts.append(f"{sql} {op} {self._param(number)}")
        elif any(number is not None for number in numbers):
            raise QueryError(
                "the two ends of a range must both be numbers or both be text",
                column=ends[0][1].column,
            )
        else:
            for op, value in ends:
                parts.append(f"lower({column.text_sql}) {op} lower({self._param(value.text)})")
        return "(" + " AND ".join(parts) + ")"

    def _cidr(self, column: Column, network: ast.Network, value: ast.Value) -> str:
        if network.version != 4:
            raise QueryError(
                "IPv6 networks are not supported; match a prefix instead, "
                "for example source.ip:fe80:*",
                column=value.column,
            )
        if column.kind != "text":
            raise _expected(column, "an exact value", value)
        sql = column.sql
        octets = [f"TRY_CAST(split_part({sql}, '.', {index}) AS BIGINT)" for index in range(1, 5)]
        number = f"({octets[0]} * 16777216 + {octets[1]} * 65536 + {octets[2]} * 256 + {octets[3]})"
        low = self._param(int(network.network_address))
        high = self._param(int(network.broadcast_address))
        return f"(regexp_full_match({sql}, '{_IPV4}') AND {number} BETWEEN {low} AND {high})"


def _expected(column: Column, what: str, value: ast.Value) -> QueryError:
    return QueryError(
        f"field '{column.name}' holds {_HOLDS[column.kind]}: expected {what}, found '{value.text}'",
        column=value.column or None,
    )


_HOLDS = {"time": "times", "number": "numbers", "integer": "whole numbers", "text": "text"}

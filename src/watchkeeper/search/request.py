"""Search requests as whole SELECT statements: rows, group counts, totals, histograms.

A :class:`SearchRequest` carries the query text, a time range and paging; the
``compile_*`` functions turn it into a :class:`CompiledQuery` (SQL text with ``?``
placeholders and the parameters in order) that the event store runs as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from watchkeeper.search import ast
from watchkeeper.search.columns import TIMESTAMP, Column, Columns
from watchkeeper.search.compiler import FilterCompiler
from watchkeeper.search.errors import QueryError
from watchkeeper.search.parser import parse
from watchkeeper.search.pipes import MAX_ROWS
from watchkeeper.search.values import as_utc

COUNT = "count"
"""The name of the count column of ``stats`` and of :func:`compile_count`."""
TIEBREAK = "event.id"
"""Sorted after the requested order when the store has it, so pages do not overlap."""


@dataclass(frozen=True)
class TimeRange:
    """Events with ``start <= @timestamp < end``, in UTC; ``None`` leaves that end open."""

    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class SearchRequest:
    query: str = ""
    time: TimeRange = TimeRange(None, None)
    sort: str = TIMESTAMP
    descending: bool = True
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    params: list[object]
    kind: Literal["rows", "stats"]
    columns: list[str] | None
    """The output columns of ``stats`` and ``fields`` (and of counts and histograms)."""


@dataclass(frozen=True, slots=True)
class Filter:
    """The WHERE clause of a request, with its parameters, and the parsed query."""

    where: str
    params: list[object]
    query: ast.Query


def compile_filter(request: SearchRequest, columns: Columns) -> Filter:
    """The query's filter and the time range, as one condition."""
    query = parse(request.query)
    params: list[object] = []
    conditions: list[str] = []
    start, end = _time_bounds(request.time)
    if start is not None or end is not None:
        timestamp = columns.get(TIMESTAMP).sql
        if start is not None:
            conditions.append(f"{timestamp} >= ?")
            params.append(start)
        if end is not None:
            conditions.append(f"{timestamp} < ?")
            params.append(end)
    if query.filter is not None:
        conditions.append(FilterCompiler(columns, params).compile(query.filter))
    return Filter(" AND ".join(conditions) or "TRUE", params, query)


def statement(select: str, relation: str, where: str, tail: str = "") -> str:
    """``SELECT select FROM relation WHERE where tail``.

    The one place SQL text is assembled: ``relation`` comes from the store, and every
    other part holds only quoted identifiers of known columns, fixed text and ``?``.
    """
    return f"SELECT {select} FROM {relation} WHERE {where}{tail}"  # noqa: S608


def compile_search(
    request: SearchRequest, relation: str, columns: Mapping[str, str]
) -> CompiledQuery:
    """The events (or ``stats`` groups) a request asks for, one page of them."""
    known = Columns(columns)
    limit, offset = _paging(request)
    flt = compile_filter(request, known)
    pipes = flt.query.pipes
    head = next((pipe.count for pipe in pipes if isinstance(pipe, ast.Head)), None)
    if head is not None:
        limit = max(0, min(limit, head - offset))
    sort = next((pipe for pipe in pipes if isinstance(pipe, ast.Sort)), None)
    stats = next((pipe for pipe in pipes if isinstance(pipe, ast.Stats)), None)
    if stats is not None:
        return _stats(stats, sort, relation, known, flt, limit, offset)
    projection = next((pipe for pipe in pipes if isinstance(pipe, ast.Fields)), None)
    select, output = "*", None
    if projection is not None:
        chosen = _distinct([known.field(name) for name in projection.fields])
        select = ", ".join(column.sql for column in chosen)
        output = [column.name for column in chosen]
    if sort is not None:
        keys = [(known.field(key.field), key.descending) for key in sort.keys]
    else:
        keys = [(known.get(request.sort), request.descending)]
    if TIEBREAK in known and all(column.name != TIEBREAK for column, _ in keys):
        keys.append((known.get(TIEBREAK), keys[0][1]))
    order = ", ".join(
        f"{column.sql} {'DESC' if descending else 'ASC'} NULLS LAST" for column, descending in keys
    )
    sql = statement(select, relation, flt.where, f" ORDER BY {order} LIMIT ? OFFSET ?")
    return CompiledQuery(sql, [*flt.params, limit, offset], "rows", output)


def compile_count(
    request: SearchRequest, relation: str, columns: Mapping[str, str]
) -> CompiledQuery:
    """How many events match the filter and time range (pipes, limit and offset aside)."""
    flt = compile_filter(request, Columns(columns))
    sql = statement(f'count(*) AS "{COUNT}"', relation, flt.where)
    return CompiledQuery(sql, flt.params, "rows", [COUNT])


def compile_time_bounds(
    request: SearchRequest, relation: str, columns: Mapping[str, str]
) -> CompiledQuery:
    """The first and last ``@timestamp`` of matching events, to fill an open time range."""
    known = Columns(columns)
    flt = compile_filter(request, known)
    timestamp = known.get(TIMESTAMP).sql
    select = f'min({timestamp}) AS "first", max({timestamp}) AS "last"'
    sql = statement(select, relation, flt.where)
    return CompiledQuery(sql, flt.params, "rows", ["first", "last"])


def _stats(
    stats: ast.Stats,
    sort: ast.Sort | None,
    relation: str,
    known: Columns,
    flt: Filter,
    limit: int,
    offset: int,
) -> CompiledQuery:
    groups = _distinct([known.field(name) for name in stats.by])
    for column in groups:
        if column.name == COUNT:
            raise QueryError(f"'{COUNT}' is the name of the count itself; it cannot be a group")
    names = [column.name for column in groups]
    select = ", ".join([*(column.sql for column in groups), f'count(*) AS "{COUNT}"'])
    keys: list[tuple[str, bool]] = [(f'"{COUNT}"', True)]
    if sort is not None:
        keys = []
        for key in sort.keys:
            if key.field.name != COUNT and key.field.name not in names:
                raise QueryError(
                    f"after stats, sort by '{COUNT}' or a group field "
                    f"({', '.join(names) or 'none'}), not '{key.field.name}'",
                    column=key.field.column or None,
                )
            keys.append((f'"{COUNT}"' if key.field.name == COUNT else
                         known.field(key.field).sql, key.descending))  # fmt: skip
    keys.extend((column.sql, False) for column in groups)
    order = ", ".join(f"{sql} {'DESC' if desc else 'ASC'} NULLS LAST" for sql, desc in keys)
    group_by = f" GROUP BY {', '.join(column.sql for column in groups)}" if groups else ""
    sql = statement(select, relation, flt.where, f"{group_by} ORDER BY {order} LIMIT ? OFFSET ?")
    return CompiledQuery(sql, [*flt.params, limit, offset], "stats", [*names, COUNT])


def _distinct(columns: list[Column]) -> list[Column]:
    seen: dict[str, Column] = {}
    for column in columns:
        seen.setdefault(column.name, column)
    return list(seen.values())


def _paging(request: SearchRequest) -> tuple[int, int]:
    """The request's limit (capped at :data:`MAX_ROWS`) and offset, both checked."""
    for name in ("limit", "offset"):
        value = getattr(request, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise QueryError(f"{name} must be a whole number of 0 or more, not {value!r}")
    return min(request.limit, MAX_ROWS), request.offset


def _time_bounds(time: TimeRange) -> tuple[datetime | None, datetime | None]:
    start = None if time.start is None else as_utc(time.start)
    end = None if time.end is None else as_utc(time.end)
    if start is not None and end is not None and start >= end:
        raise QueryError("the time range must start before it ends")
    return start, end

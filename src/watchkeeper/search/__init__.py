"""The event search language: query text to an AST to parameterized DuckDB SQL.

``parse`` reads a query (``process.name:powershell.exe AND user.name:adm* | head 20``)
into :mod:`watchkeeper.search.ast` nodes; the ``compile_*`` functions turn a
:class:`SearchRequest` into a :class:`CompiledQuery` over the store's relation. User
values only ever travel as ``?`` parameters. Errors are :class:`QueryError`, a
:class:`~watchkeeper.errors.UsageError` that carries the column of the problem.
"""

from watchkeeper.search.ast import Query
from watchkeeper.search.errors import QueryError
from watchkeeper.search.histogram import compile_histogram, histogram_interval
from watchkeeper.search.parser import parse
from watchkeeper.search.pipes import MAX_ROWS
from watchkeeper.search.request import (
    CompiledQuery,
    SearchRequest,
    TimeRange,
    compile_count,
    compile_search,
    compile_time_bounds,
)

__all__ = [
    "MAX_ROWS",
    "CompiledQuery",
    "Query",
    "QueryError",
    "SearchRequest",
    "TimeRange",
    "compile_count",
    "compile_histogram",
    "compile_search",
    "compile_time_bounds",
    "histogram_interval",
    "parse",
]

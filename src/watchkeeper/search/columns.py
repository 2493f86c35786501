"""The store's columns as the compiler sees them: checked names, quoted, with a kind.

Only names found in the mapping the store hands over become SQL identifiers, and then
only double-quoted; an unknown name is refused with the closest known names.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

from watchkeeper.search import ast
from watchkeeper.search.errors import QueryError

Kind: TypeAlias = Literal["text", "number", "integer", "time"]

TIMESTAMP = "@timestamp"
"""The time of an event: what time ranges, histograms and the default sort use."""
ORIGINAL = "event.original"
"""The raw record: what a bare word or phrase searches."""

_INTEGER_TYPES = re.compile(r"(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?\d*|INT\d+|LONG|SHORT)")
_NUMBER_TYPES = re.compile(r"(DOUBLE|FLOAT\d*|REAL|DECIMAL(\(.*\))?|NUMERIC(\(.*\))?)")


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    sql: str
    """The quoted identifier, safe to put in SQL text."""
    kind: Kind
    type_name: str

    @property
    def text_sql(self) -> str:
        """The column as text, for wildcard and case-insensitive matching."""
        return self.sql if self.kind == "text" else f"CAST({self.sql} AS VARCHAR)"


def quote_identifier(name: str) -> str:
    """``name`` as a double-quoted SQL identifier; names with control characters refused."""
    if not name or any(unicodedata.category(char) == "Cc" for char in name):
        raise QueryError(f"field name {name!r} has control characters")
    return '"' + name.replace('"', '""') + '"'


def column_kind(type_name: str) -> Kind:
    """Which comparisons a DuckDB type allows: times, whole numbers, numbers or text."""
    upper = type_name.strip().upper()
    if upper.startswith(("TIMESTAMP", "DATE")):
        return "time"
    if _INTEGER_TYPES.fullmatch(upper):
        return "integer"
    if _NUMBER_TYPES.fullmatch(upper):
        return "number"
    return "text"


class Columns:
    """Resolves field names of a query against the columns of the store."""

    def __init__(self, columns: Mapping[str, str]) -> None:
        self._types = dict(columns)

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def get(self, name: str, *, column: int | None = None) -> Column:
        """The column called ``name``, or a :class:`QueryError` that suggests others."""
        type_name = self._types.get(name)
        if type_name is None:
            raise QueryError(self._unknown(name), column=column)
        return Column(name, quote_identifier(name), column_kind(type_name), type_name)

    def field(self, field: ast.Field) -> Column:
        return self.get(field.name, column=field.column or None)

    def _unknown(self, name: str) -> str:
        message = f"unknown field '{name}'"
        by_lower: dict[str, str] = {}
        for known in sorted(self._types):
            by_lower.setdefault(known.lower(), known)
        close = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.6)
        if close:
            names = ", ".join(f"'{by_lower[lower]}'" for lower in close)
            message += f"; did you mean {names}?"
        else:
            message += "; to search for text that contains ':', put the text in quotes"
        return message

"""The parsed form of a search query: a filter tree and the pipes that follow it.

The parser builds these nodes and the compiler reads them; nothing else is needed to
know what a query means. ``column`` attributes (1-based positions in the query text)
serve error messages only and take no part in equality, so two queries that say the
same thing compare equal.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Literal, TypeAlias

Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
Comparator: TypeAlias = Literal[">", ">=", "<", "<="]

WILDCARDS = frozenset("*?")


@dataclass(frozen=True, slots=True)
class Field:
    """A field name as written in the query, not yet checked against the store."""

    name: str
    column: int = dataclass_field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Value:
    """A value as the analyst meant it: escapes resolved, ``*`` and ``?`` still wildcards."""

    text: str
    quoted: bool = False
    column: int = dataclass_field(default=0, compare=False)

    @property
    def has_wildcards(self) -> bool:
        return any(char in WILDCARDS for char in self.text)


@dataclass(frozen=True, slots=True)
class Match:
    """``field:value``: equal without case, or matching the value's wildcards."""

    field: Field
    value: Value


@dataclass(frozen=True, slots=True)
class Exists:
    """``field:*``: the event has the field (not null)."""

    field: Field


@dataclass(frozen=True, slots=True)
class FullText:
    """A bare word or phrase: a substring of the raw record, without case."""

    value: Value


@dataclass(frozen=True, slots=True)
class Compare:
    """``field>value`` and the other comparators: numbers, times or text order."""

    field: Field
    op: Comparator
    value: Value


@dataclass(frozen=True, slots=True)
class Range:
    """``field:[low TO high]``; a missing end (``*``) is open; brackets include, braces not."""

    field: Field
    low: Value | None
    high: Value | None
    include_low: bool = True
    include_high: bool = True


@dataclass(frozen=True, slots=True)
class Cidr:
    """``field:10.0.0.0/8``: an address inside a network."""

    field: Field
    network: Network
    value: Value


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """Negation; an event without the field counts as not matching the inner test."""

    item: Node


Node: TypeAlias = Match | Exists | FullText | Compare | Range | Cidr | And | Or | Not


@dataclass(frozen=True, slots=True)
class SortKey:
    field: Field
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Stats:
    """``| stats count by a, b``: event counts per group, largest first."""

    by: tuple[Field, ...] = ()
    column: int = dataclass_field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Sort:
    """``| sort a desc, b``: the order of rows (or of groups after ``stats``)."""

    keys: tuple[SortKey, ...]
    column: int = dataclass_field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Fields:
    """``| fields a, b``: only these columns, in this order."""

    fields: tuple[Field, ...]
    column: int = dataclass_field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Head:
    """``| head N``: at most N results in all (across pages)."""

    count: int
    column: int = dataclass_field(default=0, compare=False)


Pipe: TypeAlias = Stats | Sort | Fields | Head


@dataclass(frozen=True, slots=True)
class Query:
    """The root: ``filter`` is ``None`` for a query that selects every event."""

    filter: Node | None = None
    pipes: tuple[Pipe, ...] = ()

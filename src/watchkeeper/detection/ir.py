"""The detection IR: what a Sigma condition means, free of pySigma and of Polars.

A rule's condition is a tree of :class:`And`, :class:`Or`, :class:`Not` and leaves.
A leaf tests one field (:class:`FieldTest`) or, for keyword detections, any field
(:class:`KeywordTest`). Both evaluators — the vectorized compiler and the per-event
reference — read this tree, so they agree by construction on what a rule says.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import TypeAlias


class StrKind(Enum):
    EQ = "eq"
    PREFIX = "prefix"
    SUFFIX = "suffix"
    CONTAINS = "contains"
    GLOB = "glob"


class Wildcard(Enum):
    """A wildcard of a Sigma string, kept apart from literal text (``\\*`` is a literal ``*``)."""

    MANY = "*"
    ONE = "?"


Part: TypeAlias = "str | Wildcard"


@dataclass(frozen=True, slots=True)
class StrMatch:
    """A string comparison. ``value`` is the literal (for GLOB the whole pattern, see ``parts``)."""

    kind: StrKind
    value: str
    cased: bool = False
    parts: tuple[Part, ...] = ()
    """For GLOB: literal runs and wildcards as separate items: ``a*b?`` is
    ``("a", Wildcard.MANY, "b", Wildcard.ONE)``."""


@dataclass(frozen=True, slots=True)
class RegexMatch:
    pattern: str
    ignore_case: bool = False
    multiline: bool = False
    dotall: bool = False


Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class CidrMatch:
    networks: tuple[Network, ...]


@dataclass(frozen=True, slots=True)
class NullMatch:
    """The field is missing or null (an empty string is a value, matched by ``''``)."""


@dataclass(frozen=True, slots=True)
class ExistsMatch:
    exists: bool


class CompareOp(Enum):
    LT = "<"
    LTE = "<="
    GT = ">"
    GTE = ">="
    NEQ = "!="


@dataclass(frozen=True, slots=True)
class CompareMatch:
    """Numeric comparison; a value that is not a number never matches."""

    op: CompareOp
    number: float


@dataclass(frozen=True, slots=True)
class FieldRefMatch:
    """The field equals (or starts / ends with) the value of another field of the same event."""

    other: str
    kind: StrKind = StrKind.EQ
    cased: bool = False


@dataclass(frozen=True, slots=True)
class TimePartMatch:
    """A part (minute, hour, day, week, month, year) of an ISO 8601 time value equals a number."""

    part: str
    number: int


Test: TypeAlias = (
    StrMatch
    | RegexMatch
    | CidrMatch
    | NullMatch
    | ExistsMatch
    | CompareMatch
    | FieldRefMatch
    | TimePartMatch
)


@dataclass(frozen=True, slots=True)
class FieldTest:
    field: str
    test: Test


@dataclass(frozen=True, slots=True)
class KeywordTest:
    """A field-less value: matches when any field of the event contains it."""

    test: StrMatch | RegexMatch


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class Const:
    value: bool


Node: TypeAlias = And | Or | Not | Const | FieldTest | KeywordTest


def leaves(node: Node) -> Iterator[FieldTest | KeywordTest]:
    """Every test of a condition, depth first."""
    stack: list[Node] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, And | Or):
            stack.extend(reversed(item.children))
        elif isinstance(item, Not):
            stack.append(item.child)
        elif isinstance(item, FieldTest | KeywordTest):
            yield item


def fields_of(node: Node) -> set[str]:
    """Every field a condition reads (fieldref targets included)."""
    found: set[str] = set()
    for leaf in leaves(node):
        if isinstance(leaf, FieldTest):
            found.add(leaf.field)
            if isinstance(leaf.test, FieldRefMatch):
                found.add(leaf.test.other)
    return found


def has_keywords(node: Node) -> bool:
    return any(isinstance(leaf, KeywordTest) for leaf in leaves(node))


def simplify(node: Node) -> Node:
    """Flatten nested And/Or, fold constants, drop double negation."""
    if isinstance(node, And | Or):
        kind = type(node)
        children: list[Node] = []
        for child in (simplify(c) for c in node.children):
            if isinstance(child, kind):
                children.extend(child.children)
            elif isinstance(child, Const):
                if child.value == isinstance(node, Or):
                    return Const(child.value)
            else:
                children.append(child)
        if not children:
            return Const(isinstance(node, And))
        if len(children) == 1:
            return children[0]
        return kind(tuple(children))
    if isinstance(node, Not):
        inner = simplify(node.child)
        if isinstance(inner, Not):
            return inner.child
        if isinstance(inner, Const):
            return Const(not inner.value)
        return Not(inner)
    return node

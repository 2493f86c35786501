"""STIX patterns reduced to the values a matcher can look up.

An indicator store matches single values, not pattern logic, so only patterns that
mean "any of these values" are kept: ``=`` and ``IN`` on the object paths below, joined
by ``OR`` (inside or between observations). ``AND`` inside one observation narrows a
match; it is kept as its most specific side (a hash before a URL, a URL before a domain
or an address, those before a file name), and the rest is said in a note, since a
broader match is a lead for an analyst while dropping the indicator loses it (a side
that cannot be read is such a narrowing too, when another side can). Anything
that depends on order, time, counting, negation or text matching (``FOLLOWEDBY``,
``WITHIN``, ``REPEATS``, ``NOT``, ``LIKE``, ``MATCHES``…) is refused with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from stix2 import patterns as ast  # type: ignore[import-untyped]
from stix2.pattern_visitor import create_pattern_object  # type: ignore[import-untyped]
from stix2patterns.exceptions import ParseException  # type: ignore[import-untyped]

from watchkeeper.intel.model import Kind

HASHES = {"MD5": Kind.MD5, "SHA1": Kind.SHA1, "SHA256": Kind.SHA256}
PATHS: dict[tuple[str, ...], Kind] = {
    ("ipv4-addr", "value"): Kind.IPV4,
    ("ipv6-addr", "value"): Kind.IPV6,
    ("domain-name", "value"): Kind.DOMAIN,
    ("url", "value"): Kind.URL,
    ("email-addr", "value"): Kind.EMAIL,
    ("email-message", "from_ref", "value"): Kind.EMAIL,
    ("email-message", "sender_ref", "value"): Kind.EMAIL,
    ("file", "name"): Kind.FILENAME,
    ("network-traffic", "extensions", "http-request-ext", "request_header", "user-agent"):
        Kind.USER_AGENT,
    # what Watchkeeper's own export writes for TLS client fingerprints
    ("network-traffic", "x_watchkeeper_ja3"): Kind.JA3,
    ("network-traffic", "x_watchkeeper_ja4"): Kind.JA4,
}
_ESCAPE = re.compile(r"\\(.)")
SPECIFICITY = {Kind.MD5: 4, Kind.SHA1: 4, Kind.SHA256: 4, Kind.URL: 3, Kind.FILENAME: 1}
"""How narrowly a kind picks out the thing sought; others (addresses, domains,
e-mail addresses, user agents) are 2."""


class PatternRefused(Exception):
    """The pattern cannot be reduced to values; the message says why."""


@dataclass(frozen=True, slots=True)
class Value:
    kind: Kind
    value: str
    path: str
    """The object path it was compared with, as written in the pattern."""


@dataclass(frozen=True, slots=True)
class Reduced:
    values: list[Value]
    notes: list[str]
    """What the values leave out (the other sides of an ``AND``)."""


def reduce_pattern(pattern: str) -> Reduced:
    """The values ``pattern`` matches on; :class:`PatternRefused` saying why when it
    cannot be read or does not reduce to values."""
    try:
        tree = create_pattern_object(pattern, version="2.1")
    except ParseException as exc:
        raise PatternRefused(f"invalid pattern: {exc}") from None
    except ValueError as exc:  # an AND across object types, a bad literal
        raise PatternRefused(f"unsupported pattern: {exc}") from None
    notes: list[str] = []
    return Reduced(_observations(tree, notes), notes)


def _observations(node: Any, notes: list[str]) -> list[Value]:
    if isinstance(node, ast.OrObservationExpression):
        return [value for operand in node.operands for value in _observations(operand, notes)]
    if isinstance(node, ast.ObservationExpression):
        return _observations(node.operand, notes) if _is_observation(node.operand) \
            else _comparisons(node.operand, notes)
    if isinstance(node, ast.ParentheticalExpression):
        return _observations(node.expression, notes)
    if isinstance(node, ast.QualifiedObservationExpression):
        raise PatternRefused(f"qualifier not supported: {node.qualifier}")
    if isinstance(node, ast._CompoundObservationExpression):
        raise PatternRefused(f"{node.operator} between observations is not supported")
    raise PatternRefused(f"unsupported expression: {node}")


def _is_observation(node: Any) -> bool:
    return isinstance(node, ast.ObservationExpression | ast._CompoundObservationExpression
                      | ast.QualifiedObservationExpression)


def _comparisons(node: Any, notes: list[str]) -> list[Value]:
    if isinstance(node, ast.ParentheticalExpression):
        return _comparisons(node.expression, notes)
    if isinstance(node, ast.OrBooleanExpression):
        return [value for operand in node.operands for value in _comparisons(operand, notes)]
    if isinstance(node, ast.AndBooleanExpression):
        sides, refusals = [], []
        for operand in node.operands:
            try:
                sides.append((operand, _comparisons(operand, notes)))
            except PatternRefused as exc:
                refusals.append(exc)
                sides.append((operand, []))
        if len(refusals) == len(sides):
            raise refusals[0]
        best = max(sides, key=lambda side: _specificity(side[1]))
        others = " AND ".join(str(operand) for operand, _ in sides if operand is not best[0])
        notes.append(f"the pattern also requires {others}")
        return best[1]
    if isinstance(node, ast._ComparisonExpression):
        return _comparison(node)
    raise PatternRefused(f"unsupported expression: {node}")


def _specificity(values: list[Value]) -> int:
    return min((SPECIFICITY.get(value.kind, 2) for value in values), default=0)


def _comparison(node: Any) -> list[Value]:
    if node.negated:
        raise PatternRefused(f"NOT is not supported: {node}")
    path = str(node.lhs)
    kind = _kind(node.lhs)
    if kind is None:
        raise PatternRefused(f"object path not supported: {path}")
    if isinstance(node, ast.EqualityComparisonExpression):
        constants = [node.rhs]
    elif isinstance(node, ast.InComparisonExpression):
        constants = list(node.rhs.value)
    else:
        raise PatternRefused(f"operator {node.operator} is not supported: {node}")
    values = []
    for constant in constants:
        if not isinstance(constant, ast.StringConstant):
            raise PatternRefused(f"{path} compared with a non-text value: {constant}")
        # the parse tree keeps the literal's escapes (\' and \\): the value has none
        text = _ESCAPE.sub(r"\1", str(constant.value))
        values.append(Value(_widen(kind, text), text, path))
    return values


def _kind(lhs: Any) -> Kind | None:
    names = [str(part.property_name) for part in lhs.property_path]
    if lhs.object_type_name == "file" and len(names) == 2 and names[0] == "hashes":
        return HASHES.get(names[1].upper().replace("-", "").replace("_", ""))
    return PATHS.get((lhs.object_type_name, *(name.lower() for name in names)))


def _widen(kind: Kind, text: str) -> Kind:
    """An address written with a prefix length is a network."""
    return Kind.CIDR if kind in (Kind.IPV4, Kind.IPV6) and "/" in text else kind

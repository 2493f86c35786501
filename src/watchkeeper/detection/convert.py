"""Translate a pySigma rule's parsed condition into the detection IR.

pySigma has already applied the value modifiers (``contains`` wraps a value in
wildcards, ``base64offset`` and ``windash`` expand it into alternatives, ``re``
makes a regular expression …); this module maps the resulting typed values onto
the few tests of :mod:`watchkeeper.detection.ir`, resolving ``expand``
placeholders from a user-supplied table.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.rule import SigmaDetection, SigmaDetectionItem
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SpecialChars,
)

from watchkeeper.detection import ir
from watchkeeper.detection.patterns import fold
from watchkeeper.errors import RuleError
from watchkeeper.events.model import stringify

_COMPARE = {
    CompareOperators.LT: ir.CompareOp.LT,
    CompareOperators.LTE: ir.CompareOp.LTE,
    CompareOperators.GT: ir.CompareOp.GT,
    CompareOperators.GTE: ir.CompareOp.GTE,
    CompareOperators.NEQ: ir.CompareOp.NEQ,
}


class Converter:
    """Converts parsed conditions; ``placeholders`` fill ``%name%`` values of ``expand``."""

    def __init__(self, placeholders: Mapping[str, Sequence[str]] | None = None) -> None:
        self.placeholders = placeholders or {}

    def condition(self, parsed_conditions: Sequence[Any]) -> ir.Node:
        """OR of the rule's conditions (a rule may list several)."""
        nodes = [self.node(cond.parse()) for cond in parsed_conditions]
        return ir.simplify(ir.Or(tuple(nodes)))

    def node(self, item: Any) -> ir.Node:
        if isinstance(item, ConditionAND):
            return ir.And(tuple(self.node(arg) for arg in item.args))
        if isinstance(item, ConditionOR):
            return ir.Or(tuple(self.node(arg) for arg in item.args))
        if isinstance(item, ConditionNOT):
            return ir.Not(self.node(item.args[0]))
        if isinstance(item, ConditionFieldEqualsValueExpression):
            return self.field_value(item.field, item.value)
        if isinstance(item, ConditionValueExpression):
            return self.keyword(item.value)
        if isinstance(item, SigmaDetection | SigmaDetectionItem):
            # An empty detection (e.g. a map whose only item is an empty list).
            return ir.Const(False)
        raise RuleError(f"unsupported condition element {type(item).__name__}")

    # -- leaves ---------------------------------------------------------------

    def field_value(self, field: str, value: Any) -> ir.Node:
        if isinstance(value, SigmaExpansion):
            return ir.Or(tuple(self.field_value(field, v) for v in value.values))
        if isinstance(value, SigmaString):
            return _any(ir.FieldTest(field, test) for test in self.strings(value))
        if isinstance(value, SigmaTimestampPart):
            return ir.FieldTest(field, ir.TimePartMatch(value.timestamp_part.name.lower(),
                                                        int(value.number)))
        if isinstance(value, SigmaNumber | SigmaBool):
            return _any(
                ir.FieldTest(field, ir.StrMatch(ir.StrKind.EQ, text))
                for text in _number_texts(value)
            )
        if isinstance(value, SigmaNull):
            return ir.FieldTest(field, ir.NullMatch())
        if isinstance(value, SigmaExists):
            return ir.FieldTest(field, ir.ExistsMatch(bool(value.exists)))
        if isinstance(value, SigmaRegularExpression):
            return ir.FieldTest(field, regex(value))
        if isinstance(value, SigmaCIDRExpression):
            return ir.FieldTest(field, ir.CidrMatch((ipaddress.ip_network(value.network),)))
        if isinstance(value, SigmaCompareExpression):
            return ir.FieldTest(
                field, ir.CompareMatch(_COMPARE[value.op], float(value.number.number))
            )
        if isinstance(value, SigmaFieldReference):
            kind = ir.StrKind.EQ
            if value.starts_with and value.ends_with:
                kind = ir.StrKind.CONTAINS
            elif value.starts_with:
                kind = ir.StrKind.PREFIX
            elif value.ends_with:
                kind = ir.StrKind.SUFFIX
            return ir.FieldTest(field, ir.FieldRefMatch(value.field, kind))
        raise RuleError(f"unsupported value type {type(value).__name__} for field {field!r}")

    def keyword(self, value: Any) -> ir.Node:
        if isinstance(value, SigmaExpansion):
            return ir.Or(tuple(self.keyword(v) for v in value.values))
        if isinstance(value, SigmaString):
            return _any(ir.KeywordTest(_keyword_search(t)) for t in self.strings(value))
        if isinstance(value, SigmaNumber):
            text = stringify(value.number)
            assert text is not None
            return ir.KeywordTest(ir.StrMatch(ir.StrKind.CONTAINS, text))
        if isinstance(value, SigmaRegularExpression):
            return ir.KeywordTest(regex(value))
        raise RuleError(f"unsupported keyword value type {type(value).__name__}")

    def strings(self, value: SigmaString) -> list[ir.StrMatch]:
        cased = isinstance(value, SigmaCasedString)
        if value.contains_placeholder():
            expanded = value.replace_placeholders(self._placeholder_values)
            return [string_match(v, cased) for v in expanded]
        return [string_match(value, cased)]

    def _placeholder_values(self, placeholder: Placeholder) -> Iterator[SigmaString]:
        values = self.placeholders.get(placeholder.name)
        if values is None:
            raise RuleError(
                f"placeholder %{placeholder.name}% has no values "
                "(give them in a placeholders file: --placeholders FILE)"
            )
        for text in values:
            yield SigmaString(str(text))


def _number_texts(value: SigmaNumber | SigmaBool) -> Iterator[str]:
    """The text forms a number or boolean of a rule matches: ``4688``; ``1.5``; a whole
    float both as written (``1.0``) and as an integer (``1``)."""
    if isinstance(value, SigmaBool):
        yield "true" if bool(value) else "false"
        return
    number = value.number
    if isinstance(number, float):
        yield repr(number).lower()
        if number.is_integer():
            yield str(int(number))
        return
    yield str(number)


def _any(nodes: Iterator[ir.Node]) -> ir.Node:
    items = tuple(nodes)
    return items[0] if len(items) == 1 else ir.Or(items)


def string_match(value: SigmaString, cased: bool = False) -> ir.StrMatch:
    """Classify a Sigma string by where its wildcards are; literals are lower-cased unless cased."""
    parts: list[ir.Part] = []
    for part in value.s:
        if isinstance(part, str):
            text = part if cased else fold(part)
            if parts and isinstance(parts[-1], str):
                parts[-1] += text
            else:
                parts.append(text)
        elif part is SpecialChars.WILDCARD_MULTI:
            parts.append(ir.Wildcard.MANY)
        elif part is SpecialChars.WILDCARD_SINGLE:
            parts.append(ir.Wildcard.ONE)
        else:
            raise RuleError(f"unresolved placeholder in value {value.original!r}")
    literal = [p for p in parts if isinstance(p, str)]
    wildcards = [p for p in parts if isinstance(p, ir.Wildcard)]
    if not wildcards:
        return ir.StrMatch(ir.StrKind.EQ, "".join(literal), cased)
    if len(literal) == 1 and all(w is ir.Wildcard.MANY for w in wildcards):
        shape = tuple("L" if isinstance(p, str) else "*" for p in parts)
        kinds = {
            ("*", "L", "*"): ir.StrKind.CONTAINS,
            ("L", "*"): ir.StrKind.PREFIX,
            ("*", "L"): ir.StrKind.SUFFIX,
        }
        if shape in kinds:
            return ir.StrMatch(kinds[shape], literal[0], cased)
    return ir.StrMatch(ir.StrKind.GLOB, _pattern_text(parts), cased, tuple(parts))


def _pattern_text(parts: Sequence[ir.Part]) -> str:
    """A readable form of a pattern (for messages; matching uses ``parts``)."""
    return "".join(p.value if isinstance(p, ir.Wildcard) else p for p in parts)


def _keyword_search(match: ir.StrMatch) -> ir.StrMatch:
    """Keywords are found anywhere in a value: an exact keyword is a substring search."""
    if match.kind is ir.StrKind.EQ:
        return ir.StrMatch(ir.StrKind.CONTAINS, match.value, match.cased)
    if match.kind is ir.StrKind.CONTAINS:
        return match
    many = ir.Wildcard.MANY
    parts = match.parts or _parts_of(match)
    if parts[0] is not many:
        parts = (many, *parts)
    if parts[-1] is not many:
        parts = (*parts, many)
    return ir.StrMatch(ir.StrKind.GLOB, _pattern_text(parts), match.cased, parts)


def _parts_of(match: ir.StrMatch) -> tuple[ir.Part, ...]:
    if match.kind is ir.StrKind.PREFIX:
        return (match.value, ir.Wildcard.MANY)
    if match.kind is ir.StrKind.SUFFIX:
        return (ir.Wildcard.MANY, match.value)
    return (match.value,)


def regex(value: SigmaRegularExpression) -> ir.RegexMatch:
    flags = value.flags
    return ir.RegexMatch(
        pattern=str(value.regexp),
        ignore_case=SigmaRegularExpressionFlag.IGNORECASE in flags,
        multiline=SigmaRegularExpressionFlag.MULTILINE in flags,
        dotall=SigmaRegularExpressionFlag.DOTALL in flags,
    )

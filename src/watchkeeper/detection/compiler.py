"""Compile detection IR into Polars expressions over a prepared batch.

The batch the expressions run on is *prepared* by the engine: every field a rule
names is a column of that name (read through the field aliases), each field that
is compared without case also has a lower-cased twin (:func:`lower_name`), and the
keyword columns exist when a rule has keywords. Lower-casing thus happens once per
column and batch, whatever the number of rules reading it.

Every expression yields a non-null boolean: a missing value fails a test, and
``not`` of a failed test is true, as Sigma means it (not SQL's three-valued logic).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import reduce

import polars as pl

from watchkeeper.detection import ir, reference
from watchkeeper.detection.patterns import fold_expr, glob_regex, regex_text, rust_regex_ok

KEYWORDS = "\x00keywords"
"""All keyword-searchable values of an event joined by U+001F, lower-cased."""
KEYWORDS_CASED = "\x00keywords_cased"
KEYWORD_SEPARATOR = "\x1f"
FEW = 4
"""Up to this many prefixes or suffixes on one field are tested one by one."""
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"


def lower_name(field: str) -> str:
    return f"{field}\x00lower"


def ipv4_name(field: str) -> str:
    """The prepared column holding a field's dotted-quad IPv4 address as an integer."""
    return f"{field}\x00ipv4"


def ipv4_number(column: pl.Expr) -> pl.Expr:
    """The dotted-quad IPv4 address of each value as an integer (null when it is not one)."""
    octets = column.str.strip_chars().str.extract_groups(_IPV4)
    value = pl.lit(0, dtype=pl.Int64)
    for index in range(1, 5):
        octet = octets.struct.field(str(index)).cast(pl.Int64)
        value = value * 256 + octet
    return value


class Compiler:
    """Compiles IR; ``keyword_columns`` are the original columns keyword regexes search."""

    def __init__(self, keyword_columns: tuple[str, ...] = ()) -> None:
        self.keyword_columns = keyword_columns
        self.fallbacks = 0
        """How many tests ran per distinct value in Python because Polars could not run them."""

    def compile(self, node: ir.Node) -> pl.Expr:
        if isinstance(node, ir.And):
            return reduce(lambda a, b: a & b, self._group(node.children))
        if isinstance(node, ir.Or):
            return reduce(lambda a, b: a | b, self._group(node.children, any_of=True))
        if isinstance(node, ir.Not):
            return ~self.compile(node.child)
        if isinstance(node, ir.Const):
            return pl.lit(node.value)
        if isinstance(node, ir.FieldTest):
            return self.field_test(node.field, node.test)
        return self.keyword_test(node.test)

    def _group(self, children: tuple[ir.Node, ...], any_of: bool = False) -> list[pl.Expr]:
        """Compile children; under OR, literal tests on one field become one multi-literal test."""
        if not any_of:
            return [self.compile(child) for child in children]
        merged: dict[tuple[str, ir.StrKind, bool], list[str]] = defaultdict(list)
        networks: dict[str, list[ir.Network]] = defaultdict(list)
        keywords: dict[bool, list[str]] = defaultdict(list)
        exprs: list[pl.Expr] = []
        for child in children:
            if isinstance(child, ir.FieldTest) and isinstance(child.test, ir.CidrMatch):
                networks[child.field].extend(child.test.networks)
            elif (
                isinstance(child, ir.KeywordTest)
                and isinstance(child.test, ir.StrMatch)
                and child.test.kind is ir.StrKind.CONTAINS
            ):
                keywords[child.test.cased].append(child.test.value)
            elif (
                isinstance(child, ir.FieldTest)
                and isinstance(child.test, ir.StrMatch)
                and child.test.kind is not ir.StrKind.GLOB
            ):
                test = child.test
                merged[(child.field, test.kind, test.cased)].append(test.value)
            else:
                exprs.append(self.compile(child))
        for (field, kind, cased), values in merged.items():
            exprs.append(self._strings(field, kind, cased, values))
        for field, nets in networks.items():
            exprs.append(self._cidr(field, ir.CidrMatch(tuple(nets))))
        for cased, values in keywords.items():
            source = pl.col(KEYWORDS_CASED if cased else KEYWORDS)
            exprs.append(source.str.contains_any(values).fill_null(False))
        return exprs

    # -- field tests ------------------------------------------------------------

    def field_test(self, field: str, test: ir.Test) -> pl.Expr:
        column = pl.col(field)
        if isinstance(test, ir.StrMatch):
            if test.kind is ir.StrKind.GLOB:
                source = column if test.cased else pl.col(lower_name(field))
                return source.str.contains(glob_regex(test.parts)).fill_null(False)
            return self._strings(field, test.kind, test.cased, [test.value])
        if isinstance(test, ir.NullMatch):
            return column.is_null()
        if isinstance(test, ir.ExistsMatch):
            return column.is_not_null() if test.exists else column.is_null()
        if isinstance(test, ir.RegexMatch):
            return self._regex(column, test)
        if isinstance(test, ir.CidrMatch):
            return self._cidr(field, test)
        if isinstance(test, ir.CompareMatch):
            return _compare(column, test)
        if isinstance(test, ir.TimePartMatch):
            part = test
            return self._by_value(column, lambda v: reference.time_part_matches(part, v))
        return self._fieldref(field, test)

    def _strings(self, field: str, kind: ir.StrKind, cased: bool, values: list[str]) -> pl.Expr:
        source = pl.col(field) if cased else pl.col(lower_name(field))
        if kind is ir.StrKind.EQ:
            expr = source.is_in(values) if len(values) > 1 else source == values[0]
        elif kind is ir.StrKind.CONTAINS:
            if len(values) > 1:
                expr = source.str.contains_any(values)
            else:
                expr = source.str.contains(values[0], literal=True)
        elif len(values) <= FEW:
            method = source.str.starts_with if kind is ir.StrKind.PREFIX else source.str.ends_with
            expr = reduce(lambda a, b: a | b, (method(v) for v in values))
        else:
            # Many prefixes or suffixes: one slice and one set lookup per distinct length.
            by_length: dict[int, list[str]] = defaultdict(list)
            for value in values:
                by_length[len(value)].append(value)
            parts = [
                (
                    source.str.slice(0, length)
                    if kind is ir.StrKind.PREFIX
                    else source.str.slice(-length, length)
                ).is_in(group)
                & (source.str.len_chars() >= length)
                for length, group in sorted(by_length.items())
            ]
            expr = reduce(lambda a, b: a | b, parts)
        return expr.fill_null(False)

    def _regex(self, column: pl.Expr, test: ir.RegexMatch) -> pl.Expr:
        pattern = regex_text(test)
        if rust_regex_ok(pattern):
            return column.str.contains(pattern).fill_null(False)
        return self._by_value(column, lambda v: reference.regex_matches(test, v))

    def _cidr(self, field: str, test: ir.CidrMatch) -> pl.Expr:
        """IPv4 as integer range checks on the prepared column (:func:`ipv4_name`); IPv6
        text (and IPv4-mapped IPv6) through Python's parser, once per distinct value."""
        v4 = [n for n in test.networks if n.version == 4]
        parts: list[pl.Expr] = []
        if v4:
            number = pl.col(ipv4_name(field))
            ranges = [
                (number >= int(n.network_address)) & (number <= int(n.broadcast_address))
                for n in v4
            ]
            parts.append(reduce(lambda a, b: a | b, ranges).fill_null(False))
        ipv6 = self._by_value(pl.col(field), _ipv6_check(test), only_containing=":", count=False)
        parts.append(ipv6)
        return reduce(lambda a, b: a | b, parts)

    def _fieldref(self, field: str, test: ir.FieldRefMatch) -> pl.Expr:
        if test.cased:
            left, right = pl.col(field), pl.col(test.other)
        else:
            left, right = pl.col(lower_name(field)), pl.col(lower_name(test.other))
        if test.kind is ir.StrKind.PREFIX:
            expr = left.str.starts_with(right)
        elif test.kind is ir.StrKind.SUFFIX:
            expr = left.str.ends_with(right)
        elif test.kind is ir.StrKind.CONTAINS:
            expr = left.str.contains(right, literal=True)
        else:
            expr = left == right
        return expr.fill_null(False)

    def _by_value(
        self,
        column: pl.Expr,
        predicate: Callable[[str], bool],
        only_containing: str = "",
        count: bool = True,
    ) -> pl.Expr:
        """Run a Python predicate once per distinct value of the batch (the fallback path);
        with ``only_containing``, only on the values that contain that text."""
        self.fallbacks += count

        def run(series: pl.Series) -> pl.Series:
            values = series.drop_nulls()
            if only_containing:
                values = values.filter(values.str.contains(only_containing, literal=True))
            values = values.unique()
            hits = [value for value in values.to_list() if predicate(value)]
            return series.is_in(pl.Series(hits, dtype=pl.String)).fill_null(False)

        return column.map_batches(run, return_dtype=pl.Boolean)

    # -- keyword tests ------------------------------------------------------------

    def keyword_test(self, test: ir.StrMatch | ir.RegexMatch) -> pl.Expr:
        if isinstance(test, ir.RegexMatch):
            if not self.keyword_columns:
                return pl.lit(False)
            exprs = [self._regex(pl.col(name), test) for name in self.keyword_columns]
            return reduce(lambda a, b: a | b, exprs)
        source = pl.col(KEYWORDS_CASED if test.cased else KEYWORDS)
        if test.kind is ir.StrKind.CONTAINS:
            return source.str.contains(test.value, literal=True).fill_null(False)
        # A wildcard must not reach from one field into the next: search each column.
        many = ir.Wildcard.MANY
        inner = test.parts[1:] if test.parts[:1] == (many,) else test.parts
        inner = inner[:-1] if inner[-1:] == (many,) else inner
        pattern = glob_regex(inner, anchored=False)
        if not self.keyword_columns:
            return pl.lit(False)
        columns = [
            (pl.col(c) if test.cased else fold_expr(pl.col(c))).str.contains(pattern)
            for c in self.keyword_columns
        ]
        return reduce(lambda a, b: a | b, columns).fill_null(False)


def _ipv6_check(test: ir.CidrMatch) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        return reference.cidr_matches(test, value)

    return check


def cidr_fields(node: ir.Node) -> set[str]:
    """Fields that some CIDR test of ``node`` reads."""
    return {
        leaf.field
        for leaf in ir.leaves(node)
        if isinstance(leaf, ir.FieldTest) and isinstance(leaf.test, ir.CidrMatch)
    }


def _compare(column: pl.Expr, test: ir.CompareMatch) -> pl.Expr:
    number = column.str.strip_chars().cast(pl.Float64, strict=False)
    number = pl.when(number.is_nan()).then(None).otherwise(number)  # NaN is not a number
    op = test.op
    if op is ir.CompareOp.LT:
        expr = number < test.number
    elif op is ir.CompareOp.LTE:
        expr = number <= test.number
    elif op is ir.CompareOp.GT:
        expr = number > test.number
    elif op is ir.CompareOp.GTE:
        expr = number >= test.number
    else:
        expr = number != test.number
    return expr.fill_null(False)

"""From query text to :class:`~watchkeeper.search.ast.Query`, by recursive descent.

Grammar (keywords in any case; ``AND`` may be left out between terms)::

    query   := [or] ("|" pipe)*
    or      := and ("OR" and)*
    and     := not (["AND"] not)*
    not     := "NOT" not | "(" or ")" | term
    term    := FIELD (":" spec | CMP value) | value        (a bare value: full text)
    spec    := "*" | "(" vor ")" | range | CMP value | value
    vor     := vand ("OR" vand)*                            (values of one field)
    vand    := vnot ("AND" vnot)*
    vnot    := "NOT" vnot | "(" vor ")" | value
    range   := ("[" | "{") (value | "*") "TO" (value | "*") ("]" | "}")
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from contextlib import contextmanager

from watchkeeper.search import ast
from watchkeeper.search.errors import QueryError
from watchkeeper.search.lexer import Kind, Lexer, Mode, Token
from watchkeeper.search.pipes import check_order, parse_pipe

MAX_QUERY_LENGTH = 20_000
"""Longer queries are refused: no analyst types them, and they cost memory to compile."""
MAX_DEPTH = 64
"""How deeply parentheses and NOTs may nest."""

_KEYWORDS = frozenset({"AND", "OR", "NOT"})
_IPV4_NETWORK = re.compile(r"\d{1,3}(\.\d{1,3}){3}/\d{1,2}")
_IPV6_NETWORK = re.compile(r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*/\d{1,3}")


def parse(query: str) -> ast.Query:
    """Parse one query; raise :class:`QueryError` with the column where it goes wrong."""
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryError(f"the query is longer than {MAX_QUERY_LENGTH:,} characters")
    return _Parser(query).query()


def _keyword(token: Token) -> str | None:
    if token.kind is Kind.WORD and token.text.upper() in _KEYWORDS:
        return token.text.upper()
    return None


class _Parser:
    def __init__(self, text: str) -> None:
        self.lexer = Lexer(text)
        self.depth = 0

    # -- top level ------------------------------------------------------------------

    def query(self) -> ast.Query:
        lexer = self.lexer
        node: ast.Node | None = None
        if lexer.peek(Mode.FILTER).kind not in (Kind.END, Kind.PIPE):
            node = self.or_expr()
        pipes: list[ast.Pipe] = []
        token = lexer.peek(Mode.FILTER)
        while token.kind is Kind.PIPE:
            lexer.advance(token)
            pipes.append(parse_pipe(lexer, token.column))
            token = lexer.peek(Mode.PIPE)
        if token.kind is not Kind.END:
            if token.kind is Kind.RPAREN:
                raise QueryError("this ')' closes no '('", column=token.column)
            expected = "a pipe or the end of the query" if pipes else "an operator"
            raise QueryError(f"expected {expected}, found {token.describe()}", column=token.column)
        check_order(tuple(pipes))
        return ast.Query(node, tuple(pipes))

    @contextmanager
    def nested(self, token: Token) -> Iterator[None]:
        """One level deeper (a parenthesis or a NOT) while the block runs."""
        if self.depth >= MAX_DEPTH:
            raise QueryError(f"nested more than {MAX_DEPTH} levels deep", column=token.column)
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    # -- the filter -----------------------------------------------------------------

    def or_expr(self) -> ast.Node:
        items = [self.and_expr()]
        while _keyword(token := self.lexer.peek(Mode.FILTER)) == "OR":
            self.lexer.advance(token)
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else ast.Or(tuple(items))

    def and_expr(self) -> ast.Node:
        items = [self.not_expr()]
        while True:
            token = self.lexer.peek(Mode.FILTER)
            word = _keyword(token)
            if word == "AND":
                self.lexer.advance(token)
            elif word == "OR" or token.kind not in (Kind.WORD, Kind.QUOTED, Kind.LPAREN):
                break
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else ast.And(tuple(items))

    def not_expr(self) -> ast.Node:
        token = self.lexer.next(Mode.FILTER)
        word = _keyword(token)
        if word == "NOT":
            with self.nested(token):
                return ast.Not(self.not_expr())
        if token.kind is Kind.LPAREN:
            with self.nested(token):
                node = self.or_expr()
            self.close(token)
            return node
        if token.kind is Kind.QUOTED:
            return ast.FullText(ast.Value(token.text, True, token.column))
        if token.kind is not Kind.WORD or word is not None:
            raise QueryError(
                f"expected a search term, found {token.describe()}", column=token.column
            )
        return self.term(token)

    def close(self, opening: Token) -> None:
        token = self.lexer.peek(Mode.FILTER)
        if token.kind is not Kind.RPAREN:
            where = f"for the '(' at column {opening.column}"
            raise QueryError(f"expected ')' {where}, found {token.describe()}", column=token.column)
        self.lexer.advance(token)

    def term(self, word: Token) -> ast.Node:
        lexer = self.lexer
        after = lexer.peek(Mode.FILTER)
        if after.kind is Kind.CMP:
            lexer.advance(after)
            field = ast.Field(word.text, word.column)
            return ast.Compare(field, _comparator(after), self.value(after))
        if after.kind is not Kind.COLON:
            return ast.FullText(ast.Value(word.text, False, word.column))
        lexer.advance(after)
        field = ast.Field(word.text, word.column)
        token = lexer.peek(Mode.VALUE)
        if token.kind is Kind.WORD and token.text == "*":
            lexer.advance(token)
            return ast.Exists(field)
        if token.kind is Kind.LPAREN:
            lexer.advance(token)
            with self.nested(token):
                node = self.value_or(field)
            self.close_value_group(token)
            return node
        if token.kind is Kind.LRANGE:
            return self.range(field, lexer.advance(token))
        if token.kind is Kind.CMP:
            lexer.advance(token)
            return ast.Compare(field, _comparator(token), self.value(token))
        return self.leaf(field, self.value(after))

    # -- values ---------------------------------------------------------------------

    def value(self, after: Token, mode: Mode = Mode.VALUE) -> ast.Value:
        """The value that must follow ``after`` (a ``:``, a comparator, ``TO``)."""
        token = self.lexer.peek(mode)
        if token.kind not in (Kind.WORD, Kind.QUOTED):
            raise QueryError(
                f"expected a value after '{after.text}', found {token.describe()}",
                column=token.column,
            )
        self.lexer.advance(token)
        return ast.Value(token.text, token.kind is Kind.QUOTED, token.column)

    def leaf(self, field: ast.Field, value: ast.Value) -> ast.Node:
        """``field:value``, or a network test when the value is written as one."""
        if not value.quoted and "/" in value.text:
            network = _network(value)
            if network is not None:
                return ast.Cidr(field, network, value)
        return ast.Match(field, value)

    def value_or(self, field: ast.Field) -> ast.Node:
        items = [self.value_and(field)]
        while _keyword(token := self.lexer.peek(Mode.VALUE)) == "OR":
            self.lexer.advance(token)
            items.append(self.value_and(field))
        return items[0] if len(items) == 1 else ast.Or(tuple(items))

    def value_and(self, field: ast.Field) -> ast.Node:
        items = [self.value_not(field)]
        while _keyword(token := self.lexer.peek(Mode.VALUE)) == "AND":
            self.lexer.advance(token)
            items.append(self.value_not(field))
        return items[0] if len(items) == 1 else ast.And(tuple(items))

    def value_not(self, field: ast.Field) -> ast.Node:
        token = self.lexer.next(Mode.VALUE)
        word = _keyword(token)
        if word == "NOT":
            with self.nested(token):
                return ast.Not(self.value_not(field))
        if token.kind is Kind.LPAREN:
            with self.nested(token):
                node = self.value_or(field)
            self.close_value_group(token)
            return node
        if token.kind not in (Kind.WORD, Kind.QUOTED) or word is not None:
            raise QueryError(
                f"expected a value of {field.name}, found {token.describe()}",
                column=token.column,
            )
        return self.leaf(field, ast.Value(token.text, token.kind is Kind.QUOTED, token.column))

    def close_value_group(self, opening: Token) -> None:
        token = self.lexer.peek(Mode.VALUE)
        if token.kind is Kind.RPAREN:
            self.lexer.advance(token)
            return
        if token.kind in (Kind.WORD, Kind.QUOTED, Kind.LPAREN) and _keyword(token) is None:
            message = "expected OR, AND or ')' between the values of the '(' at column "
            raise QueryError(f"{message}{opening.column}", column=token.column)
        raise QueryError(
            f"expected ')' for the '(' at column {opening.column}, found {token.describe()}",
            column=token.column,
        )

    def range(self, field: ast.Field, opening: Token) -> ast.Range:
        low = self.range_end(opening)
        to = self.lexer.peek(Mode.RANGE)
        if not (to.kind is Kind.WORD and to.text.upper() == "TO"):
            raise QueryError(f"expected TO in the range, found {to.describe()}", column=to.column)
        self.lexer.advance(to)
        high = self.range_end(to)
        closing = self.lexer.peek(Mode.RANGE)
        if closing.kind is not Kind.RRANGE:
            raise QueryError(
                f"expected ']' or '}}' to close the range, found {closing.describe()}",
                column=closing.column,
            )
        self.lexer.advance(closing)
        return ast.Range(field, low, high, opening.text == "[", closing.text == "]")

    def range_end(self, after: Token) -> ast.Value | None:
        value = self.value(after, Mode.RANGE)
        if not value.quoted and value.text == "*":
            return None
        return value


def _comparator(token: Token) -> ast.Comparator:
    ops: dict[str, ast.Comparator] = {">": ">", ">=": ">=", "<": "<", "<=": "<="}
    return ops[token.text]


def _network(value: ast.Value) -> ast.Network | None:
    """The network an unquoted ``a.b.c.d/n`` (or IPv6) value names, if it is one.

    A value written like an IPv4 network but invalid (``10.0.0.0/33``) is an error; one
    that merely looks a little like IPv6 (``de:ad/1``) is left to match as text.
    """
    if _IPV4_NETWORK.fullmatch(value.text):
        try:
            return ipaddress.IPv4Network(value.text, strict=False)
        except ValueError as error:
            raise QueryError(
                f"'{value.text}' is not a valid network: {error}", column=value.column
            ) from None
    if _IPV6_NETWORK.fullmatch(value.text):
        try:
            return ipaddress.IPv6Network(value.text, strict=False)
        except ValueError:
            return None
    return None

"""The commands after ``|``: ``stats``, ``sort``, ``fields`` and ``head``.

Each may appear once; ``stats`` comes first and is not combined with ``fields``, and
``sort`` does not follow ``head``. Within these rules the order of pipes does not change
their meaning, so every query compiles to one plain SELECT.
"""

from __future__ import annotations

from watchkeeper.search import ast
from watchkeeper.search.errors import QueryError
from watchkeeper.search.lexer import Kind, Lexer, Mode, Token

MAX_ROWS = 10_000
"""The most rows one query returns; larger ``limit`` and ``head`` values are capped."""

COMMANDS = ("stats", "sort", "fields", "head")


def parse_pipe(lexer: Lexer, bar_column: int) -> ast.Pipe:
    """One command after a ``|`` at ``bar_column``."""
    token = lexer.next(Mode.PIPE)
    if token.kind is not Kind.WORD:
        raise QueryError(
            f"expected a command after '|' ({', '.join(COMMANDS)}), found {token.describe()}",
            column=token.column,
        )
    command = token.text.lower()
    if command == "stats":
        return _stats(lexer, token)
    if command == "sort":
        return _sort(lexer, token)
    if command == "fields":
        return ast.Fields(tuple(_field_list(lexer, token)), token.column)
    if command == "head":
        return _head(lexer, token)
    raise QueryError(
        f"unknown command '{token.text}' after '|'; expected one of {', '.join(COMMANDS)}",
        column=token.column,
    )


def check_order(pipes: tuple[ast.Pipe, ...]) -> None:
    """Refuse pipes whose meaning would depend on running them one after the other."""
    seen: set[str] = set()
    for index, pipe in enumerate(pipes):
        name = type(pipe).__name__.lower()
        problem = None
        if name in seen:
            problem = f"'{name}' may appear only once"
        elif name == "stats" and index > 0:
            problem = "'stats' must be the first pipe"
        elif name == "fields" and "stats" in seen:
            problem = "'fields' cannot follow 'stats', which returns its own columns"
        elif name == "sort" and "head" in seen:
            problem = "'sort' cannot come after 'head': sort first, then take the head"
        if problem is not None:
            raise QueryError(problem, column=pipe.column)
        seen.add(name)


def _field(lexer: Lexer, after: Token) -> ast.Field:
    token = lexer.next(Mode.PIPE)
    if token.kind not in (Kind.WORD, Kind.QUOTED) or not token.text:
        raise QueryError(
            f"expected a field name after '{after.text}', found {token.describe()}",
            column=token.column,
        )
    return ast.Field(token.text, token.column)


def _field_list(lexer: Lexer, after: Token) -> list[ast.Field]:
    fields = [_field(lexer, after)]
    while (comma := lexer.peek(Mode.PIPE)).kind is Kind.COMMA:
        lexer.advance(comma)
        fields.append(_field(lexer, comma))
    return fields


def _stats(lexer: Lexer, command: Token) -> ast.Stats:
    token = lexer.next(Mode.PIPE)
    if not (token.kind is Kind.WORD and token.text.lower() == "count"):
        raise QueryError(
            f"expected 'count' after 'stats', found {token.describe()}", column=token.column
        )
    following = lexer.peek(Mode.PIPE)
    if following.kind is Kind.LPAREN:
        lexer.advance(following)
        closing = lexer.next(Mode.PIPE)
        if closing.kind is not Kind.RPAREN:
            raise QueryError(
                f"expected ')' after 'count(', found {closing.describe()}", column=closing.column
            )
        following = lexer.peek(Mode.PIPE)
    if following.kind is Kind.WORD and following.text.lower() == "by":
        lexer.advance(following)
        return ast.Stats(tuple(_field_list(lexer, following)), command.column)
    return ast.Stats((), command.column)


def _sort(lexer: Lexer, command: Token) -> ast.Sort:
    keys: list[ast.SortKey] = []
    after = command
    while True:
        field = _field(lexer, after)
        direction = lexer.peek(Mode.PIPE)
        descending = False
        if direction.kind is Kind.WORD and direction.text.lower() in ("asc", "desc"):
            lexer.advance(direction)
            descending = direction.text.lower() == "desc"
        keys.append(ast.SortKey(field, descending))
        after = lexer.peek(Mode.PIPE)
        if after.kind is not Kind.COMMA:
            return ast.Sort(tuple(keys), command.column)
        lexer.advance(after)


def _head(lexer: Lexer, command: Token) -> ast.Head:
    token = lexer.next(Mode.PIPE)
    if token.kind is not Kind.WORD or not token.text.isascii() or not token.text.isdigit():
        raise QueryError(
            f"expected a whole number of rows after 'head', found {token.describe()}",
            column=token.column,
        )
    count = MAX_ROWS if len(token.text) > 6 else min(int(token.text), MAX_ROWS)
    return ast.Head(count, command.column)

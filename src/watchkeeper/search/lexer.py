"""Cutting a query into tokens; what a token may contain depends on where it stands.

The parser says which :class:`Mode` it is in: after ``field:`` a value may hold ``:``
and ``<`` (URLs, IPv6 addresses, times), inside ``[a TO b]`` it stops at ``]``, and in
pipes a comma separates names. The lexer keeps no lookahead of its own: ``peek`` reads
from the current position in the mode given, ``advance`` moves past a token.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from watchkeeper.search.errors import QueryError


class Mode(Enum):
    FILTER = "filter"
    VALUE = "value"
    RANGE = "range"
    PIPE = "pipe"


class Kind(Enum):
    WORD = "word"
    QUOTED = "quoted"
    LPAREN = "("
    RPAREN = ")"
    LRANGE = "["
    RRANGE = "]"
    PIPE = "|"
    COMMA = ","
    COLON = ":"
    CMP = "comparator"
    END = "end of query"


_ALWAYS_STOP = frozenset('()"|')
_STOP = {
    Mode.FILTER: _ALWAYS_STOP | frozenset(":<>"),
    Mode.VALUE: _ALWAYS_STOP,
    Mode.RANGE: _ALWAYS_STOP | frozenset("]}"),
    Mode.PIPE: _ALWAYS_STOP | frozenset(","),
}
_COMPARATORS = (">=", "<=", ">", "<")


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str
    """The word, the unescaped content of a quoted value, or the symbol itself."""
    start: int
    end: int

    @property
    def column(self) -> int:
        return self.start + 1

    def describe(self) -> str:
        """How an error message names this token."""
        if self.kind is Kind.END:
            return "the end of the query"
        if self.kind is Kind.QUOTED:
            return "a quoted value"
        return f"'{self.text}'"


class Lexer:
    """Reads tokens from one query string, one at a time."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self, mode: Mode) -> Token:
        """The next token in ``mode``, without moving past it."""
        text = self.text
        pos = self.pos
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return Token(Kind.END, "", pos, pos)
        char = text[pos]
        if char == '"':
            return self._quoted(pos)
        single = {"(": Kind.LPAREN, ")": Kind.RPAREN, "|": Kind.PIPE}
        if char in single:
            return Token(single[char], char, pos, pos + 1)
        if mode is Mode.PIPE and char == ",":
            return Token(Kind.COMMA, char, pos, pos + 1)
        if mode is Mode.FILTER and char == ":":
            return Token(Kind.COLON, char, pos, pos + 1)
        if mode in (Mode.FILTER, Mode.VALUE):
            for op in _COMPARATORS:
                if text.startswith(op, pos):
                    return Token(Kind.CMP, op, pos, pos + len(op))
        if mode is Mode.VALUE and char in "[{":
            return Token(Kind.LRANGE, char, pos, pos + 1)
        if mode is Mode.RANGE and char in "]}":
            return Token(Kind.RRANGE, char, pos, pos + 1)
        return self._word(pos, _STOP[mode])

    def advance(self, token: Token) -> Token:
        """Move past ``token`` (as returned by :meth:`peek`) and return it."""
        self.pos = token.end
        return token

    def next(self, mode: Mode) -> Token:
        return self.advance(self.peek(mode))

    def _word(self, start: int, stop: frozenset[str]) -> Token:
        text = self.text
        end = start
        while end < len(text) and not text[end].isspace() and text[end] not in stop:
            end += 1
        if end < len(text) and text[end] == '"':
            raise QueryError(
                "a quote inside a value: put the whole value in quotes", column=end + 1
            )
        return Token(Kind.WORD, text[start:end], start, end)

    def _quoted(self, start: int) -> Token:
        """A double-quoted value; ``\\"`` and ``\\\\`` are escapes, other backslashes stay."""
        text = self.text
        out: list[str] = []
        pos = start + 1
        while pos < len(text):
            char = text[pos]
            if char == '"':
                return Token(Kind.QUOTED, "".join(out), start, pos + 1)
            if char == "\\" and pos + 1 < len(text) and text[pos + 1] in '"\\':
                out.append(text[pos + 1])
                pos += 2
                continue
            out.append(char)
            pos += 1
        raise QueryError("this quoted value has no closing '\"'", column=start + 1)

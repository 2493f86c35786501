"""Regular-expression text shared by both evaluators (Python ``re`` and Polars' Rust regex)."""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

import polars as pl

from watchkeeper.detection import ir

_META = frozenset("\\.+*?()|[]{}^$#&-~")

WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""Unicode White_Space, as Polars (Rust) strips it; Python's ``str.strip()`` strips more."""


def fold(text: str) -> str:
    """Case-fold for case-insensitive matching: lower case, and final sigma as sigma, so that
    a literal folds the same alone as inside a longer value."""
    return text.lower().replace("\u03c2", "\u03c3")


def fold_expr(column: pl.Expr) -> pl.Expr:
    """:func:`fold` as a Polars expression."""
    return column.str.to_lowercase().str.replace_all("\u03c2", "\u03c3", literal=True)


def escape(text: str) -> str:
    """Escape ``text`` for both Python's ``re`` and the Rust ``regex`` crate."""
    return "".join("\\" + ch if ch in _META else ch for ch in text)


def glob_regex(parts: tuple[ir.Part, ...], anchored: bool = True, any_char: str = ".") -> str:
    """A regex for a Sigma wildcard pattern split into literal runs and wildcards."""
    body = []
    for part in parts:
        if part is ir.Wildcard.MANY:
            body.append(any_char + "*")
        elif part is ir.Wildcard.ONE:
            body.append(any_char)
        else:
            assert isinstance(part, str)
            body.append(escape(part))
    text = "".join(body)
    return f"(?s)^{text}$" if anchored else f"(?s){text}"


def regex_text(match: ir.RegexMatch) -> str:
    """The pattern with its Sigma flags written inline, as both engines accept."""
    flags = "".join(
        flag
        for flag, on in (("i", match.ignore_case), ("m", match.multiline), ("s", match.dotall))
        if on
    )
    return f"(?{flags}){match.pattern}" if flags else match.pattern


@lru_cache(maxsize=4096)
def rust_regex_ok(pattern: str) -> bool:
    """Whether Polars' Rust regex engine accepts ``pattern`` (it has no look-around and no
    back-references, and runs in linear time)."""
    try:
        pl.Series([""], dtype=pl.String).str.contains(pattern)
    except pl.exceptions.PolarsError:
        return False
    return True


@lru_cache(maxsize=4096)
def python_regex(pattern: str, flags: int = 0) -> re.Pattern[str] | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. FutureWarning on "[[" (a possible nested set)
        try:
            return re.compile(pattern, flags)
        except re.error:
            return None


def regex_search(pattern: str, value: str) -> bool:
    """Search ``value`` the way the engine does: with the Rust engine when it accepts the
    pattern, else with Python's ``re``. A pattern neither accepts never matches."""
    if rust_regex_ok(pattern):
        return bool(pl.Series([value], dtype=pl.String).str.contains(pattern)[0])
    compiled = python_regex(pattern)
    return compiled is not None and compiled.search(value) is not None

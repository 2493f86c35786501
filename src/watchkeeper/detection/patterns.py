"""Regular-expression text shared by both evaluators (Python ``re`` and Polars' Rust regex)."""

from __future__ import annotations

from watchkeeper.detection import ir

_META = frozenset("\\.+*?()|[]{}^$#&-~")


def escape(text: str) -> str:
    """Escape ``text`` for both Python's ``re`` and the Rust ``regex`` crate."""
    return "".join("\\" + ch if ch in _META else ch for ch in text)


def glob_regex(parts: tuple[str, ...], anchored: bool = True, any_char: str = ".") -> str:
    """A regex for a Sigma wildcard pattern split into literal runs, ``*`` and ``?``."""
    body = []
    for part in parts:
        if part == "*":
            body.append(any_char + "*")
        elif part == "?":
            body.append(any_char)
        else:
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

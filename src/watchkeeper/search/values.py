"""What a value written in a query means: a LIKE pattern, a number or a point in time."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

LIKE_ESCAPE = "\\"
"""The escape character of every LIKE pattern we build (``ESCAPE '\\'`` in the SQL)."""

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d{1,18}")
_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"([Zz]|[+-]\d{2}:?\d{2})?)?"
)


def like_pattern(text: str, *, contains: bool = False) -> str:
    """``text`` with ``*``/``?`` as LIKE wildcards and every other character literal."""
    out: list[str] = []
    for char in text:
        if char == "*":
            out.append("%")
        elif char == "?":
            out.append("_")
        elif char in ("%", "_", LIKE_ESCAPE):
            out.append(LIKE_ESCAPE + char)
        else:
            out.append(char)
    pattern = "".join(out)
    return f"%{pattern}%" if contains else pattern


def like_literal(text: str) -> str:
    """``text`` as a LIKE pattern matching exactly it: every character literal, wildcards
    and the escape character escaped; add ``%`` around it to find it anywhere."""
    return "".join(LIKE_ESCAPE + c if c in ("%", "_", LIKE_ESCAPE) else c for c in text)


def parse_number(text: str) -> float | None:
    """A finite decimal number, or ``None``: ``10``, ``-2.5``, ``1e3`` (not ``nan``, ``0x1``)."""
    if len(text) > 64 or not _NUMBER.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def parse_integer(text: str) -> int | None:
    """A whole number that fits a BIGINT column, or ``None``."""
    return int(text) if _INTEGER.fullmatch(text) else None


@dataclass(frozen=True, slots=True)
class TimeValue:
    """A time as written, with the span its precision covers: ``2024-05-01`` is a day."""

    start: datetime
    span: timedelta

    @property
    def end(self) -> datetime:
        return self.start + self.span


def parse_time(text: str) -> TimeValue | None:
    """An ISO-8601 date or date-time, read as UTC when it names no zone; else ``None``."""
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    span = timedelta(days=1)
    if hour is not None:
        span = timedelta(minutes=1)
    if second is not None:
        span = timedelta(seconds=1)
    micros = 0
    if fraction is not None:
        digits = min(len(fraction), 6)
        micros = int(fraction[:digits].ljust(6, "0"))
        span = timedelta(microseconds=10 ** (6 - digits))
    try:
        start = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0),
            int(second or 0), micros, tzinfo=_zone(zone),
        )  # fmt: skip
    except ValueError:
        return None
    return TimeValue(start.astimezone(UTC), span)


def _zone(text: str | None) -> timezone:
    if text is None or text in ("Z", "z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise ValueError("bad zone offset")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def as_utc(moment: datetime) -> datetime:
    """A datetime in UTC; one without a zone is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)

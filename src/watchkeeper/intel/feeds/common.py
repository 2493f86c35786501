"""What every feed parser needs: size-limited JSON, lenient timestamps, and adding an
indicator so that one bad value becomes a problem instead of ending the parse."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

from watchkeeper.errors import InputError
from watchkeeper.intel.model import FeedProblem, FeedResult, IndicatorIn, Kind, canonical_pair

BOM = b"\xef\xbb\xbf"
MAX_BYTES = 256 << 20
"""The default limit on one feed document: larger ones are refused before parsing."""


def check_size(data: bytes, max_bytes: int, source: str) -> None:
    if len(data) > max_bytes:
        raise InputError(f"{len(data)} bytes, more than the {max_bytes} a feed may have",
                         location=source)


def load_json(data: bytes, source: str, max_bytes: int = MAX_BYTES) -> Any:
    """The parsed document; :class:`InputError` when it is too large or not JSON."""
    check_size(data, max_bytes, source)
    try:
        return orjson.loads(data.removeprefix(BOM))
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc}", location=source) from None


def parse_time(value: object) -> datetime | None:
    """A UTC datetime from an ISO 8601 text (``Z`` or an offset; none means UTC) or epoch
    seconds (a number or its digits); None for nothing; :class:`InputError` otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InputError(f"not a time: {value!r}")
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        try:
            return datetime.fromtimestamp(int(value), UTC)
        except (OverflowError, OSError, ValueError):
            raise InputError(f"not a time: {value!r}") from None
    if not isinstance(value, str):
        raise InputError(f"not a time: {value!r}")
    try:
        stamp = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"not an ISO 8601 time: {value[:60]!r}") from None
    if stamp.tzinfo is None:
        return stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC)


def iso(stamp: datetime) -> str:
    """``stamp`` as ISO 8601 in UTC with a ``Z``, the form STIX and TAXII write."""
    return stamp.astimezone(UTC).isoformat().replace("+00:00", "Z")


def unique(items: Iterable[str]) -> tuple[str, ...]:
    """The non-empty items, stripped, first occurrence kept, order kept."""
    seen: dict[str, None] = {}
    for item in items:
        text = item.strip()
        if text:
            seen.setdefault(text, None)
    return tuple(seen)


def add(result: FeedResult, where: str, kind: Kind, value: str, source: str,
        **details: object) -> bool:
    """Append the indicator, or a problem at ``where`` when the value or a detail is
    invalid; whether it was added."""
    try:
        result.indicators.append(IndicatorIn.of(kind, value, source, **details))
    except InputError as exc:
        result.problems.append(FeedProblem(where, exc.message))
        return False
    return True


def withdraw(result: FeedResult, kind: Kind, value: str) -> None:
    """Record a taken-back value; one that is not valid was never stored, so it is dropped."""
    try:
        result.withdrawn.append(canonical_pair(kind, value))
    except InputError:
        return

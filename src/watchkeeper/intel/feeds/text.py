"""Plain lists and CSV files of indicators, read through a column mapping.

A mapping that names no column besides the first and no header reads a plain list: the
whole line is the value (so a user agent or a URL with a comma stays whole), an inline
``value  # note`` loses its note. Otherwise each line is a CSV row split on the
delimiter, the first row being the header when there is one. Lines are read one by one:
a row that cannot be read (bad bytes, a missing column, a bad value) is a problem with
its line number and the others still count.
"""

from __future__ import annotations

import csv
import dataclasses
from dataclasses import dataclass
from typing import Any

from watchkeeper.errors import InputError, UsageError
from watchkeeper.intel.feeds.common import BOM, MAX_BYTES, add, check_size, parse_time, unique
from watchkeeper.intel.model import FeedProblem, FeedResult, Kind, guess_kind, tlp_label

Column = str | int
"""A column by its header name or its index from 0."""
_COLUMNS = ("value", "kind_column", "confidence_column", "tags_column", "threat_column",
            "first_seen_column", "description_column")


@dataclass(frozen=True, slots=True)
class TextMapping:
    kind: Kind | None = None
    """The kind of every value; None: each value's own (:func:`guess_kind`)."""
    value: Column = 0
    kind_column: Column | None = None
    delimiter: str = ","
    header: bool = False
    comment: str = "#"
    confidence: int = 50
    confidence_column: Column | None = None
    tags: tuple[str, ...] = ()
    tags_column: Column | None = None
    """Tags in one cell, separated by ``;`` or ``|``."""
    tlp: str = "amber"
    threat_column: Column | None = None
    first_seen_column: Column | None = None
    description_column: Column | None = None

    @property
    def plain(self) -> bool:
        return not self.header and self.value == 0 and all(
            getattr(self, name) is None for name in _COLUMNS[1:])

    @classmethod
    def from_dict(cls, config: dict[str, Any]) -> TextMapping:
        """A mapping from configuration (a TOML table); :class:`UsageError` naming the key
        when a key is unknown or a value is wrong."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(config) - known)
        if unknown:
            raise UsageError(f"unknown key {unknown[0]!r} in a list mapping "
                             f"(known: {', '.join(sorted(known))})")
        values = dict(config)
        try:
            if values.get("kind") is not None:
                values["kind"] = _kind(values["kind"])
            if "tlp" in values:
                values["tlp"] = tlp_label(_check(values, "tlp", str))
        except InputError as exc:
            raise UsageError(exc.message) from None
        for name in ("delimiter", "comment"):
            if len(_check(values, name, str, ",")) > 1:
                raise UsageError(f"{name} must be one character, not {values[name]!r}")
        _check(values, "header", bool, False)
        confidence = _check(values, "confidence", int, 50)
        if isinstance(confidence, bool) or not 0 <= confidence <= 100:
            raise UsageError(f"confidence must be a whole number within 0–100, not {confidence!r}")
        tags = _check(values, "tags", list, [])
        if not all(isinstance(tag, str) for tag in tags):
            raise UsageError("tags must be a list of texts")
        values["tags"] = tuple(tags)
        for name in _COLUMNS:
            column = values.get(name)
            if column is None or (isinstance(column, int) and not isinstance(column, bool)
                                  and column >= 0):
                continue
            if not isinstance(column, str):
                raise UsageError(f"{name} must be a column name or an index from 0")
            if not values.get("header"):
                raise UsageError(f"{name} names column {column!r}: that needs header = true")
        return cls(**values)


def _check(values: dict[str, Any], name: str, kind: type, default: object = None) -> Any:
    value = values.get(name, default)
    if not isinstance(value, kind):
        raise UsageError(f"{name} must be a {kind.__name__}, not {value!r}")
    return value


def _kind(text: object) -> Kind:
    try:
        return Kind(str(text).strip().lower())
    except ValueError:
        raise InputError(f"unknown kind {text!r} (known: {', '.join(Kind)})") from None


def parse_text(data: bytes, source: str, mapping: TextMapping, *,
               max_bytes: int = MAX_BYTES) -> FeedResult:
    """The indicators of a list or a CSV file; :class:`InputError` when it is too large."""
    check_size(data, max_bytes, source)
    result = FeedResult([], [])
    header: dict[str, int] | None = None
    for number, raw in enumerate(data.removeprefix(BOM).splitlines(), start=1):
        where = f"{source}: line {number}"
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            result.problems.append(FeedProblem(where, f"not UTF-8: {exc.reason} at byte "
                                                      f"{exc.start}"))
            continue
        if not line or (mapping.comment and line.startswith(mapping.comment)):
            continue
        if mapping.plain:
            _plain(line, where, mapping, source, result)
            continue
        row = next(csv.reader([line], delimiter=mapping.delimiter or ","))
        if mapping.header and header is None:
            header = {name.strip(): index for index, name in enumerate(row)}
            continue
        try:
            _row(row, header or {}, where, mapping, source, result)
        except InputError as exc:
            result.problems.append(FeedProblem(where, exc.message))
    return result


def _plain(line: str, where: str, mapping: TextMapping, source: str,
           result: FeedResult) -> None:
    if mapping.comment:
        for space in (" ", "\t"):
            line = line.split(space + mapping.comment, 1)[0]
    value = line.strip()
    kind = mapping.kind or _guess(value)
    if kind is None:
        result.problems.append(FeedProblem(where, f"not a known kind of value: {value[:80]!r}"))
        return
    add(result, where, kind, value, source, confidence=mapping.confidence, tlp=mapping.tlp,
        tags=unique(mapping.tags))


def _guess(value: str) -> Kind | None:
    """:func:`guess_kind`, except that a dotted number (``999.0.0.1``) is a broken
    address, not a domain: no top-level domain is all digits."""
    kind = guess_kind(value)
    if kind is Kind.DOMAIN and value.strip().rstrip(".").rpartition(".")[2].isdigit():
        return None
    return kind


def _row(row: list[str], header: dict[str, int], where: str, mapping: TextMapping,
         source: str, result: FeedResult) -> None:
    def cell(column: Column | None) -> str | None:
        if column is None:
            return None
        index = header.get(column) if isinstance(column, str) else column
        if index is None:
            raise InputError(f"no column {column!r} in the header")
        if index >= len(row):
            raise InputError(f"no column {column!r}: the row has {len(row)}")
        return row[index].strip()

    if header and len(row) < len(header):
        raise InputError(f"{len(row)} columns where the header has {len(header)}")
    value = cell(mapping.value) or ""
    kind_text = cell(mapping.kind_column)
    kind = _kind(kind_text) if kind_text else mapping.kind or _guess(value)
    if kind is None:
        raise InputError(f"not a known kind of value: {value[:80]!r}")
    confidence_text = cell(mapping.confidence_column)
    confidence: object = mapping.confidence
    if confidence_text:
        if not confidence_text.isdigit():
            raise InputError(f"confidence is not a whole number: {confidence_text!r}")
        confidence = int(confidence_text)
    cell_tags = (cell(mapping.tags_column) or "").replace("|", ";").split(";")
    add(result, where, kind, value, source, confidence=confidence, tlp=mapping.tlp,
        tags=unique([*mapping.tags, *cell_tags]), threat=cell(mapping.threat_column) or None,
        first_seen=parse_time(cell(mapping.first_seen_column)),
        description=cell(mapping.description_column) or "")

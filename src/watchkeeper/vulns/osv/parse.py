"""OSV JSON (or YAML already loaded) into :class:`Record`, checking what matching relies
on and ignoring fields it does not know, so that newer schema versions still load."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from watchkeeper.errors import InputError
from watchkeeper.vulns.osv.model import (
    Affected,
    Event,
    OsvPackage,
    Range,
    Record,
    Reference,
    SeverityScore,
)

EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
RANGE_TYPES = frozenset({"SEMVER", "ECOSYSTEM", "GIT"})


class OsvError(InputError):
    """An OSV record that cannot be read; ``location`` names the file or zip member."""


def load_record(path: Path) -> Record:
    """Read one OSV JSON file."""
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as error:
        raise OsvError(f"not JSON: {error}", location=str(path)) from error
    return parse_record(data, source=str(path))


def parse_record(data: Any, *, source: str = "") -> Record:
    """Build a :class:`Record`; :class:`OsvError` (with ``source`` and the record id)
    when a field matching depends on is missing or has the wrong shape."""
    location = source or None
    if not isinstance(data, Mapping):
        raise OsvError("an OSV record must be a JSON object", location=location)
    record_id = data.get("id")
    if not isinstance(record_id, str) or not record_id:
        raise OsvError("missing 'id'", location=location)
    where = f"{source}: {record_id}" if source else record_id
    try:
        return Record(
            id=record_id,
            modified=_text(data, "modified", required=True),
            published=_text(data, "published") or None,
            withdrawn=_text(data, "withdrawn") or None,
            aliases=_strings(data, "aliases"),
            related=_strings(data, "related"),
            summary=_text(data, "summary"),
            details=_text(data, "details"),
            severity=tuple(
                SeverityScore(_text(item, "type", True), _text(item, "score", True))
                for item in _objects(data, "severity")
            ),
            affected=tuple(_affected(item) for item in _objects(data, "affected")),
            references=tuple(
                Reference(_text(item, "type"), _text(item, "url", True))
                for item in _objects(data, "references")
            ),
            database_specific=_mapping(data, "database_specific"),
            schema_version=_text(data, "schema_version") or None,
        )
    except _FieldError as error:
        raise OsvError(str(error), location=where) from None


class _FieldError(Exception):
    pass


def _affected(data: Mapping[str, Any]) -> Affected:
    package = None
    if "package" in data:
        raw = data["package"]
        if not isinstance(raw, Mapping):
            raise _FieldError("'affected[].package' must be an object")
        package = OsvPackage(
            ecosystem=_text(raw, "ecosystem", True),
            name=_text(raw, "name", True),
            purl=_text(raw, "purl") or None,
        )
    return Affected(
        package=package,
        ranges=tuple(_range(item) for item in _objects(data, "ranges")),
        versions=_strings(data, "versions"),
        database_specific=_mapping(data, "database_specific"),
        ecosystem_specific=_mapping(data, "ecosystem_specific"),
    )


def _range(data: Mapping[str, Any]) -> Range:
    kind = _text(data, "type", True)
    if kind not in RANGE_TYPES:
        raise _FieldError(f"unknown range type {kind!r}")
    events: list[Event] = []
    for item in _objects(data, "events"):
        present = [name for name in EVENT_KINDS if name in item]
        if len(present) != 1:
            raise _FieldError("each range event needs exactly one of " + ", ".join(EVENT_KINDS))
        events.append(Event(present[0], _text(item, present[0], True)))
    if not events:
        raise _FieldError(f"a {kind} range without events")
    return Range(kind, tuple(events), _text(data, "repo") or None)


def _text(data: Mapping[str, Any], name: str, required: bool = False) -> str:
    value = data.get(name)
    if value is None:
        if required:
            raise _FieldError(f"missing {name!r}")
        return ""
    if not isinstance(value, str):
        raise _FieldError(f"{name!r} must be a string")
    return value


def _strings(data: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = data.get(name) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _FieldError(f"{name!r} must be a list of strings")
    return tuple(value)


def _objects(data: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = data.get(name) or []
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise _FieldError(f"{name!r} must be a list of objects")
    return value


def _mapping(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name) or {}
    if not isinstance(value, Mapping):
        raise _FieldError(f"{name!r} must be an object")
    return dict(value)

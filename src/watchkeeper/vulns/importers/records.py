"""Reading untrusted documents: JSON and XML with limits, and typed access to their
fields that fails with a reason (:class:`RecordError`) instead of a ``KeyError``."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, ParseError

import orjson
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from watchkeeper.errors import InputError
from watchkeeper.vulns.importers.base import ImportResult

BOM = b"\xef\xbb\xbf"


class RecordError(InputError):
    """One record of a report cannot be read; the importer skips it with this reason."""


def load_json(data: bytes, source: str, result: ImportResult) -> Any | None:
    """The parsed document, or None after recording why it cannot be read."""
    try:
        return orjson.loads(data.removeprefix(BOM))
    except orjson.JSONDecodeError as exc:
        result.skip(source, f"invalid JSON: {exc}")
        return None


def load_json_object(data: bytes, source: str, result: ImportResult) -> dict[str, Any] | None:
    doc = load_json(data, source, result)
    if doc is None:
        return None
    if not isinstance(doc, dict):
        result.skip(source, f"expected a JSON object, found {type(doc).__name__}")
        return None
    return doc


def load_report(data: bytes, source: str, result: ImportResult, key: str,
                what: str) -> tuple[dict[str, Any], list[Any]] | None:
    """A JSON report and the list of records under ``key``; None, with the reason in
    ``result``, when the data is not such a report (``what`` names the format)."""
    doc = load_json_object(data, source, result)
    if doc is None:
        return None
    records = doc.get(key)
    if not isinstance(records, list):
        result.skip(source, f"not {what}: no {key} list")
        return None
    return doc, records


def load_xml(data: bytes, source: str, result: ImportResult) -> Element | None:
    """The root element, or None after recording why: broken XML, or XML that declares
    entities or reaches outside the document (entity expansion bombs, XXE) is refused."""
    try:
        return fromstring(data)
    except DefusedXmlException as exc:
        result.skip(source, f"refused unsafe XML: {type(exc).__name__}")
    except ParseError as exc:
        result.skip(source, f"invalid XML: {exc}")
    return None


def as_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RecordError(f"{what} is not an object")
    return value


def as_list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(f"{what} is not a list")
    return value


def text(record: dict[str, Any], key: str) -> str:
    """A required, non-empty string field."""
    value = record.get(key)
    if value is None or value == "":
        raise RecordError(f"missing {key}")
    if not isinstance(value, str):
        raise RecordError(f"{key} is not a string")
    return value


def opt_text(record: dict[str, Any], key: str) -> str:
    """An optional string field ('' when absent); numbers are accepted as text."""
    value = record.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RecordError(f"{key} is not a string")
    return str(value)


def opt_object(record: dict[str, Any], key: str) -> dict[str, Any]:
    value = record.get(key)
    return {} if value is None else as_object(value, key)


def opt_list(record: dict[str, Any], key: str) -> list[Any]:
    return as_list(record.get(key), key)


def texts(record: dict[str, Any], key: str) -> tuple[str, ...]:
    """A list of strings, empty ones dropped."""
    values = opt_list(record, key)
    if not all(isinstance(value, str) for value in values):
        raise RecordError(f"{key} holds something other than strings")
    return tuple(value for value in values if value)


def opt_number(value: Any, what: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise RecordError(f"{what} is not a number: {value!r}") from None


def unique(values: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """``values`` without repeats, in their first order."""
    return tuple(dict.fromkeys(value for value in values if value))


def child_text(element: Element, path: str) -> str:
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""

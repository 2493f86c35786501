"""One document of indicators handed over by a person (an upload, a file on the command
line): its format recognized or named, and read with the right parser."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from watchkeeper.errors import InputError, UsageError
from watchkeeper.intel.feedfetch import Fetcher
from watchkeeper.intel.feeds import (
    TextMapping,
    parse_misp_event_dict,
    parse_stix,
    parse_text,
    read_misp_feed,
)
from watchkeeper.intel.feeds.common import BOM, load_json
from watchkeeper.intel.model import FeedProblem, FeedResult, tlp_label

FORMATS = ("stix", "misp", "csv", "text")


def detect_format(data: bytes) -> str:
    """``stix`` for a bundle or a list of objects, ``misp`` for an event (or a list of
    them), else ``text``: a plain list or a CSV file read through a mapping."""
    head = data[:4096].removeprefix(BOM).lstrip()
    if not head.startswith((b"{", b"[")):
        return "text"
    try:
        doc = orjson.loads(data.removeprefix(BOM))
    except orjson.JSONDecodeError:
        return "text"
    if isinstance(doc, dict):
        if "Event" in doc or "response" in doc:
            return "misp"
        if doc.get("type") == "bundle" or "objects" in doc:
            return "stix"
    if isinstance(doc, list) and doc and isinstance(doc[0], dict) and "Event" in doc[0]:
        return "misp"
    if isinstance(doc, list):
        return "stix"
    raise InputError("JSON that is neither a STIX bundle nor a MISP event; name the format")


def parse_document(data: bytes, format: str, source: str, mapping: TextMapping | None = None,
                   *, max_bytes: int) -> FeedResult:
    """The indicators of ``data`` in ``format`` (``auto`` detects it)."""
    if format == "auto":
        format = detect_format(data)
    if format == "stix":
        return parse_stix(data, source, max_bytes=max_bytes)
    if format == "misp":
        return parse_misp(data, source, max_bytes)
    if format in ("csv", "text"):
        return parse_text(data, source, mapping or TextMapping(), max_bytes=max_bytes)
    raise UsageError(f"unknown format {format!r} (known: auto, {', '.join(FORMATS)})")


def parse_misp(data: bytes, source: str, max_bytes: int) -> FeedResult:
    """One MISP event, a list of them, or a search answer (``{"response": [...]}``)."""
    doc = load_json(data, source, max_bytes)
    if isinstance(doc, dict) and "response" in doc:
        doc = doc["response"]
    if isinstance(doc, dict):
        return parse_misp_event_dict(doc, source)
    if not isinstance(doc, list):
        raise InputError("not a MISP event or a list of events", location=source)
    result = FeedResult([], [])
    for index, event in enumerate(doc):
        try:
            if not isinstance(event, dict):
                raise InputError("not an event object")
            result.absorb(parse_misp_event_dict(event, source))
        except InputError as exc:
            result.problems.append(FeedProblem(f"{source}: event {index}", exc.message))
    return result


def parse_misp_folder(folder: Path, source: str, max_bytes: int) -> FeedResult:
    """Every event a MISP feed folder's ``manifest.json`` lists; one that cannot be read
    is a problem, the others are imported."""
    files = Fetcher(max_bytes)
    return read_misp_feed(lambda name: files.read(str(folder / name)), source, None,
                          where=str(folder), unreadable_fails=False)


def override(result: FeedResult, tlp: str | None, confidence: int | None) -> FeedResult:
    """``result`` with every indicator's TLP and confidence replaced by those given."""
    if tlp is None and confidence is None:
        return result
    changes: dict[str, Any] = {}
    if tlp is not None:
        changes["tlp"] = tlp_label(tlp)
    if confidence is not None:
        if not 0 <= confidence <= 100:
            raise UsageError(f"confidence {confidence} is not within 0–100")
        changes["confidence"] = confidence
    result.indicators = [replace(item, **changes) for item in result.indicators]
    return result


def mapping_of(kind: str | None = None, column: str | None = None,
               delimiter: str | None = None, header: bool = False) -> TextMapping:
    """A list mapping from the options a person gives on an import."""
    values: dict[str, Any] = {"header": header}
    if kind:
        values["kind"] = kind
    if column is not None and column != "":
        values["value"] = int(column) if column.isdigit() else column
    if delimiter:
        values["delimiter"] = "\t" if delimiter in ("\\t", "tab") else delimiter
    return TextMapping.from_dict(values)

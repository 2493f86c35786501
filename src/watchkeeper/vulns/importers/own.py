"""``watchkeeper scan --format json`` reports, as pushed to a server by ``scan --push``:
every finding comes back with the key it was reported under."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from watchkeeper.vulns.importers.base import Importer, ImportResult
from watchkeeper.vulns.importers.records import load_json
from watchkeeper.vulns.model import Finding, Package, Severity


class WatchkeeperImporter(Importer):
    name: ClassVar[str] = "watchkeeper"
    description: ClassVar[str] = "watchkeeper scan's JSON report"

    @classmethod
    def sniff(cls, head: bytes) -> int:
        return 95 if b'"$schema"' in head and b"scan-report" in head else 0

    def load(self, data: bytes, source: str) -> ImportResult:
        result = ImportResult()
        doc = load_json(data, source, result)
        if doc is None:
            return result
        if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
            result.skip(source, "not a watchkeeper scan report: no findings list")
            return result
        for index, item in enumerate(doc["findings"]):
            where = f"{source}: findings[{index}]"
            try:
                result.findings.append(_finding(item))
            except (KeyError, TypeError, ValueError) as error:
                reason = error.args[0] if isinstance(error, _Invalid) else (
                    f"{type(error).__name__}: {error}")
                result.skip(where, str(reason))
        return result


class _Invalid(ValueError):
    """A finding item whose fields do not have the types the report schema gives."""


def _text(item: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = item.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise _Invalid(f"{key} must be a non-empty string" if required
                       else f"{key} must be a string")
    return value


def _texts(item: dict[str, Any], key: str) -> tuple[str, ...]:
    value = item.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Invalid(f"{key} must be a list of strings")
    return tuple(value)


def _score(item: dict[str, Any]) -> float | None:
    value = item.get("cvss_score")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid("cvss_score must be a number")
    if not math.isfinite(value) or not 0.0 <= value <= 10.0:
        raise _Invalid(f"cvss_score must be between 0 and 10, not {value}")
    return float(value)


def _finding(item: Any) -> Finding:
    if not isinstance(item, dict):
        raise _Invalid(f"a finding must be an object, not {type(item).__name__}")
    location = _text(item, "location")
    assert location is not None
    package = item.get("package")
    made_package = None
    if package:
        if not isinstance(package, dict):
            raise _Invalid("package must be an object")
        made_package = Package(str(_text(package, "ecosystem")), str(_text(package, "name")),
                               str(_text(package, "version")), location,
                               _text(package, "purl", required=False))
    severity = item.get("severity")
    if not isinstance(severity, str):
        raise _Invalid("severity must be a string")
    rule = str(_text(item, "rule"))
    made = Finding(
        str(_text(item, "kind")), rule, _text(item, "title", required=False) or rule,
        Severity(severity), location, _text(item, "tool", required=False) or "watchkeeper",
        _texts(item, "aliases"), made_package, _texts(item, "fixed_in"),
        _text(item, "message", required=False) or "",
        _text(item, "cvss_vector", required=False), _score(item))
    key = _text(item, "key", required=False)
    if key and made.key != key:
        raise ValueError(f"the finding's key {key} does not match its fields")
    return made

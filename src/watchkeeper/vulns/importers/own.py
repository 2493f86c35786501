"""``watchkeeper scan --format json`` reports, as pushed to a server by ``scan --push``:
every finding comes back with the key it was reported under."""

from __future__ import annotations

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
                result.skip(where, f"{type(error).__name__}: {error}")
        return result


def _finding(item: dict[str, Any]) -> Finding:
    package = item.get("package")
    made = Finding(
        str(item["kind"]), str(item["rule"]), str(item.get("title") or item["rule"]),
        Severity(item["severity"]), str(item["location"]), str(item.get("tool") or
                                                               "watchkeeper"),
        tuple(str(a) for a in item.get("aliases") or ()),
        None if not package else Package(str(package["ecosystem"]), str(package["name"]),
                                         str(package["version"]), str(item["location"]),
                                         package.get("purl")),
        tuple(str(v) for v in item.get("fixed_in") or ()),
        str(item.get("message") or ""),
        item.get("cvss_vector"),
        float(item["cvss_score"]) if item.get("cvss_score") is not None else None)
    if item.get("key") and made.key != item["key"]:
        raise ValueError(f"the finding's key {item['key']} does not match its fields")
    return made

"""OpenVAS / Greenbone XML reports (GMP ``get_reports``, the XML report format): one
finding per ``result``, keyed by the NVT's OID on ``host:port/protocol``."""

from __future__ import annotations

import re
from typing import Any, ClassVar
from xml.etree.ElementTree import Element

from watchkeeper.vulns.importers.base import Importer, ImportResult
from watchkeeper.vulns.importers.normalize import (
    network_location,
    severity_from_label,
    severity_from_score,
)
from watchkeeper.vulns.importers.records import (
    RecordError,
    child_text,
    load_xml,
    opt_number,
    unique,
)
from watchkeeper.vulns.model import Finding

PORT = re.compile(r"^(\d+)/(\w+)$")


class OpenVasImporter(Importer):
    name: ClassVar[str] = "openvas"
    description: ClassVar[str] = "OpenVAS/Greenbone XML report: NVT results per host and port"

    @classmethod
    def sniff(cls, head: bytes) -> int:
        if b"<report" in head and (b"<nvt" in head or b"<results" in head):
            return 90
        return 50 if b"<get_reports_response" in head else 0

    def load(self, data: bytes, source: str) -> ImportResult:
        result = ImportResult()
        root = load_xml(data, source, result)
        if root is None:
            return result
        if root.tag not in ("report", "get_reports_response"):
            result.skip(source, f"not an OpenVAS report: the root is <{root.tag}>")
            return result
        for index, item in enumerate(root.iter("result")):
            nvt = item.find("nvt")
            if nvt is None:
                continue  # <result> also names the overrides' and notes' targets
            where = f"{source}: result[{index}]"
            if item.get("id"):
                where += f" ({item.get('id')})"
            try:
                result.findings.append(self._result(item, nvt))
            except RecordError as exc:
                result.skip(where, exc.message)
        return result

    def _result(self, item: Element, nvt: Element) -> Finding:
        oid = nvt.get("oid", "").strip()
        if not oid:
            raise RecordError("missing nvt oid")
        host_element = item.find("host")
        host = (host_element.text or "").strip() if host_element is not None else ""
        if not host:
            raise RecordError("missing host")
        port = child_text(item, "port")
        matched = PORT.match(port)
        location = network_location(host, *matched.groups()) if matched else host
        score = opt_number(child_text(item, "severity") or child_text(nvt, "cvss_base"),
                           "severity")
        threat = child_text(item, "threat")
        severity = severity_from_score(score) if score is not None else severity_from_label(
            threat)
        vector = child_text(nvt, "severities/severity/value") or _tag(nvt, "cvss_base_vector")
        refs = nvt.findall("refs/ref")
        cves = unique([ref.get("id", "") for ref in refs if ref.get("type") == "cve"])
        urls = unique([ref.get("id", "") for ref in refs if ref.get("type") == "url"])
        solution = nvt.find("solution")
        extra: dict[str, Any] = {
            "tool_severity": threat, "port": port, "cves": list(cves),
            "hostname": child_text(item, "host/hostname"), "family": child_text(nvt, "family"),
            "qod": child_text(item, "qod/value"), "solution": child_text(nvt, "solution"),
            "solution_type": solution.get("type", "") if solution is not None else "",
        }
        name = child_text(nvt, "name") or child_text(item, "name") or oid
        return Finding(
            kind="vulnerability", rule=oid, title=name, severity=severity, location=location,
            tool=self.name, description=child_text(item, "description") or _tag(nvt, "summary"),
            cvss_vector=vector or None, cvss_score=score,
            references=urls, extra={key: value for key, value in extra.items() if value},
        )


def _tag(nvt: Element, name: str) -> str:
    """One ``name=value`` of the NVT's ``|``-separated tags."""
    for part in child_text(nvt, "tags").split("|"):
        key, _, value = part.partition("=")
        if key.strip() == name:
            return value.strip()
    return ""

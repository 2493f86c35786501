"""CycloneDX VEX (JSON, 1.4 and later): ``vulnerabilities[].analysis`` says whether a
product is affected. These are statements to apply to findings, not findings."""

from __future__ import annotations

from typing import Any, ClassVar

from watchkeeper.vulns.importers.base import VEX_STATES, Importer, ImportResult, VexStatement
from watchkeeper.vulns.importers.normalize import make_package, parse_purl
from watchkeeper.vulns.importers.records import (
    RecordError,
    as_object,
    load_json_object,
    opt_list,
    opt_object,
    opt_text,
    text,
    unique,
)


class CycloneDxVexImporter(Importer):
    name: ClassVar[str] = "cyclonedx-vex"
    description: ClassVar[str] = "CycloneDX VEX (JSON): analysis states of vulnerabilities"

    @classmethod
    def sniff(cls, head: bytes) -> int:
        if b'"bomFormat"' not in head or b"CycloneDX" not in head:
            return 0
        return 90 if b'"vulnerabilities"' in head else 30

    def load(self, data: bytes, source: str) -> ImportResult:
        result = ImportResult()
        doc = load_json_object(data, source, result)
        if doc is None:
            return result
        if doc.get("bomFormat") != "CycloneDX":
            result.skip(source, "not a CycloneDX document: no bomFormat CycloneDX")
            return result
        try:
            purls = _component_purls(doc)
            vulns = opt_list(doc, "vulnerabilities")
        except RecordError as exc:
            result.skip(source, exc.message)
            return result
        for index, vuln in enumerate(vulns):
            where = f"{source}: vulnerabilities[{index}]"
            try:
                result.vex.extend(self._statements(as_object(vuln, "the vulnerability"),
                                                   purls, where, result))
            except RecordError as exc:
                result.skip(where, exc.message)
        return result

    def _statements(self, vuln: dict[str, Any], purls: dict[str, str], where: str,
                    result: ImportResult) -> list[VexStatement]:
        vuln_id = text(vuln, "id")
        analysis = vuln.get("analysis")
        if analysis is None:
            raise RecordError("no analysis: a vulnerability, not a VEX statement")
        analysis = as_object(analysis, "analysis")
        state = text(analysis, "state")
        if state not in VEX_STATES:
            raise RecordError(f"unknown analysis state {state!r}")
        aliases = unique([opt_text(as_object(ref, "a reference"), "id")
                          for ref in opt_list(vuln, "references")])
        response = tuple(str(value) for value in opt_list(analysis, "response"))
        affects = opt_list(vuln, "affects")
        if not affects:
            raise RecordError("affects no component")
        statements = []
        for index, affected in enumerate(affects):
            try:
                ref = text(as_object(affected, "an affects entry"), "ref")
                purl = purls.get(ref) or _purl_in(ref)
                if not purl:
                    raise RecordError(f"ref {ref!r} names no component with a purl")
            except RecordError as exc:
                result.skip(f"{where}.affects[{index}]", exc.message)
                continue
            identity = make_package("", "", purl=purl).identity if parse_purl(purl) else None
            statements.append(VexStatement(
                vuln_id=vuln_id, state=state, purl=purl, identity=identity,
                justification=opt_text(analysis, "justification") or None,
                detail=opt_text(analysis, "detail"), response=response,
                aliases=tuple(a for a in aliases if a != vuln_id),
            ))
        return statements


def _component_purls(doc: dict[str, Any]) -> dict[str, str]:
    """bom-ref → purl of every component, nested ones and the metadata's included."""
    found: dict[str, str] = {}
    pending = [opt_object(doc, "metadata").get("component"), *opt_list(doc, "components")]
    while pending:
        component = pending.pop()
        if not isinstance(component, dict):
            continue
        ref, purl = component.get("bom-ref"), component.get("purl")
        if isinstance(ref, str) and isinstance(purl, str):
            found[ref] = purl
        pending.extend(opt_list(component, "components"))
    return found


def _purl_in(ref: str) -> str:
    """The purl a ref is, or ends a BOM-Link with (``urn:cdx:…/1#pkg:…``)."""
    tail = ref.split("#", 1)[-1] if ref.startswith("urn:cdx:") else ref
    return tail if tail.startswith("pkg:") else ""

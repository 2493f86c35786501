"""pip-audit's JSON report (``pip-audit -f json``): the vulnerabilities of each
dependency; those it could not audit (``skip_reason``) are reported as skipped.

pip-audit does not say which file or environment it audited, so its findings have no
location: they merge with each other across runs, not with other tools' findings."""

from __future__ import annotations

from typing import Any, ClassVar

from watchkeeper.vulns.importers.base import Importer, ImportResult
from watchkeeper.vulns.importers.normalize import make_package
from watchkeeper.vulns.importers.records import (
    RecordError,
    as_object,
    load_json,
    opt_list,
    opt_text,
    text,
    texts,
)
from watchkeeper.vulns.model import Finding, Severity


class PipAuditImporter(Importer):
    name: ClassVar[str] = "pip-audit"
    description: ClassVar[str] = "pip-audit JSON report: vulnerable Python dependencies"

    @classmethod
    def sniff(cls, head: bytes) -> int:
        if b'"vulns"' not in head and b'"skip_reason"' not in head:
            return 0
        if b'"dependencies"' in head:
            return 90
        return 70 if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[") else 0

    def load(self, data: bytes, source: str) -> ImportResult:
        result = ImportResult()
        doc = load_json(data, source, result)
        if doc is None:
            return result
        # Older releases wrote the bare list of dependencies.
        dependencies = doc.get("dependencies") if isinstance(doc, dict) else doc
        if not isinstance(dependencies, list):
            result.skip(source, "not a pip-audit report: no dependencies list")
            return result
        for index, dependency in enumerate(dependencies):
            where = f"{source}: dependencies[{index}]"
            try:
                dependency = as_object(dependency, "the dependency")
                if dependency.get("skip_reason"):
                    result.skip(where, f"not audited: {opt_text(dependency, 'skip_reason')}")
                    continue
                result.findings.extend(self._dependency(dependency, where, result))
            except RecordError as exc:
                result.skip(where, exc.message)
        return result

    def _dependency(self, dependency: dict[str, Any], where: str,
                    result: ImportResult) -> list[Finding]:
        vulns = opt_list(dependency, "vulns")
        if not vulns:
            return []
        package = make_package(text(dependency, "name"), text(dependency, "version"),
                               ecosystem="PyPI")
        findings = []
        for index, vuln in enumerate(vulns):
            try:
                vuln = as_object(vuln, "the vulnerability")
                vuln_id = text(vuln, "id")
                findings.append(Finding(
                    kind="vulnerability", rule=vuln_id, title=f"{vuln_id} in {package.name}",
                    severity=Severity.UNKNOWN, location="", tool=self.name,
                    aliases=tuple(a for a in texts(vuln, "aliases") if a != vuln_id),
                    package=package, fixed_in=texts(vuln, "fix_versions"),
                    description=opt_text(vuln, "description"),
                ))
            except RecordError as exc:
                result.skip(f"{where}.vulns[{index}]", exc.message)
        return findings

"""OSV-Scanner's JSON report (``osv-scanner --format json``): one finding per alias
group (``groups[]``) of each package, the group's ids and aliases as one flaw."""

from __future__ import annotations

from typing import Any, ClassVar

from watchkeeper.vulns.importers.base import Importer, ImportResult
from watchkeeper.vulns.importers.normalize import (
    make_package,
    normalize_path,
    severity_from_label,
    severity_from_score,
)
from watchkeeper.vulns.importers.records import (
    RecordError,
    as_object,
    load_report,
    opt_list,
    opt_number,
    opt_object,
    opt_text,
    text,
    texts,
    unique,
)
from watchkeeper.vulns.model import Finding, Package, _id_order


class OsvScannerImporter(Importer):
    name: ClassVar[str] = "osv-scanner"
    description: ClassVar[str] = "OSV-Scanner JSON report: vulnerable packages by alias group"

    @classmethod
    def sniff(cls, head: bytes) -> int:
        if b'"results"' in head and b'"packages"' in head:
            return 85 if b'"source"' in head else 60
        return 0

    def load(self, data: bytes, source: str) -> ImportResult:
        result = ImportResult()
        report = load_report(data, source, result, "results", "an OSV-Scanner report")
        if report is None:
            return result
        _, results = report
        for index, entry in enumerate(results):
            where = f"{source}: results[{index}]"
            try:
                entry = as_object(entry, "the result")
                path = normalize_path(opt_text(opt_object(entry, "source"), "path"), self.root)
                packages = opt_list(entry, "packages")
            except RecordError as exc:
                result.skip(where, exc.message)
                continue
            for number, item in enumerate(packages):
                try:
                    result.findings.extend(self._package(as_object(item, "the package"), path))
                except RecordError as exc:
                    result.skip(f"{where}.packages[{number}]", exc.message)
        return result

    def _package(self, item: dict[str, Any], path: str) -> list[Finding]:
        info = as_object(item.get("package"), "package")
        package = make_package(text(info, "name"), opt_text(info, "version"),
                               purl=opt_text(info, "purl"),
                               ecosystem=text(info, "ecosystem"), location=path)
        records = {}
        for record in opt_list(item, "vulnerabilities"):
            record = as_object(record, "a vulnerability")
            records[text(record, "id")] = record
        groups = [as_object(group, "a group") for group in opt_list(item, "groups")]
        if not groups:  # reports before groups existed: each record is its own group
            groups = [{"ids": [vid], "aliases": [vid, *texts(rec, "aliases")]}
                      for vid, rec in records.items()]
        return [self._group(group, records, package, path) for group in groups]

    def _group(self, group: dict[str, Any], records: dict[str, dict[str, Any]],
               package: Package, path: str) -> Finding:
        ids = texts(group, "ids")
        if not ids:
            raise RecordError("a group without ids")
        everything = sorted({*ids, *texts(group, "aliases")}, key=_id_order)
        rule = everything[0]
        members = [records[vid] for vid in ids if vid in records]
        summary = next((opt_text(r, "summary") for r in members if r.get("summary")), "")
        details = next((opt_text(r, "details") for r in members if r.get("details")), "")
        score = opt_number(group.get("max_severity"), "max_severity")
        labels = [opt_text(opt_object(r, "database_specific"), "severity") for r in members]
        label = next((value for value in labels if value), "")
        vector = next((v for r in members for v in _vectors(r)), None)
        severity = severity_from_score(score) if score is not None else severity_from_label(label)
        references = [opt_text(as_object(ref, "a reference"), "url")
                      for r in members for ref in opt_list(r, "references")]
        extra: dict[str, Any] = {"tool_severity": label, "ids": list(ids)}
        return Finding(
            kind="vulnerability", rule=rule, title=summary or f"{rule} in {package.name}",
            severity=severity, location=path, tool=self.name,
            aliases=tuple(everything[1:]), package=package,
            fixed_in=unique([v for r in members for v in _fixed(r, package)]),
            description=details, cvss_vector=vector, cvss_score=score,
            references=unique(references),
            extra={key: value for key, value in extra.items() if value},
        )


def _vectors(record: dict[str, Any]) -> list[str]:
    """CVSS vectors of an OSV record, v4 before v3."""
    entries = [as_object(entry, "a severity") for entry in opt_list(record, "severity")]
    ranked = sorted(entries, key=lambda entry: opt_text(entry, "type"), reverse=True)
    return [opt_text(entry, "score") for entry in ranked
            if opt_text(entry, "type").startswith("CVSS") and entry.get("score")]


def _fixed(record: dict[str, Any], package: Package) -> list[str]:
    """The ``fixed`` events of the record's ranges for this package."""
    versions = []
    for affected in opt_list(record, "affected"):
        affected = as_object(affected, "an affected entry")
        named = opt_object(affected, "package")
        if named.get("name") and make_package(
                opt_text(named, "name"), "", ecosystem=opt_text(named, "ecosystem"),
                purl=opt_text(named, "purl")).identity != package.identity:
            continue
        for span in opt_list(affected, "ranges"):
            for event in opt_list(as_object(span, "a range"), "events"):
                fixed = opt_text(as_object(event, "an event"), "fixed")
                if fixed:
                    versions.append(fixed)
    return versions

"""Grype's JSON report (``grype IMAGE|dir:PATH|sbom:FILE -o json``): one finding per
``matches[]`` entry.

A single related vulnerability is the same flaw under another id (a GHSA and its CVE)
and becomes an alias. Several (an ALAS or DSA advisory relating CVE-1, CVE-2 and
CVE-3) are different flaws the advisory fixes together: they stay apart, listed in
``extra["related"]``, so that merging with other tools does not fold them into one."""

from __future__ import annotations

from typing import Any, ClassVar

from watchkeeper.vulns.importers.base import Importer, ImportResult
from watchkeeper.vulns.importers.normalize import (
    DISTRO_ECOSYSTEMS,
    make_package,
    normalize_image,
    normalize_path,
    severity_from_label,
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
from watchkeeper.vulns.model import Finding

TYPE_ECOSYSTEMS = {
    "python": "PyPI", "npm": "npm", "go-module": "Go", "rust-crate": "crates.io",
    "gem": "RubyGems", "php-composer": "Packagist", "java-archive": "Maven",
    "jenkins-plugin": "Maven", "dotnet": "NuGet", "dart-pub": "Pub", "hex": "Hex",
}
"""Grype's artifact ``type`` values when the artifact has no purl."""


class GrypeImporter(Importer):
    name: ClassVar[str] = "grype"
    description: ClassVar[str] = "Grype JSON report: matched vulnerabilities"

    @classmethod
    def sniff(cls, head: bytes) -> int:
        if b'"matches"' not in head:
            return 0
        if b'"relatedVulnerabilities"' in head or b'"matchDetails"' in head:
            return 90
        return 60 if b'"grype"' in head else 20

    def load(self, data: bytes, source: str) -> ImportResult:
        result = ImportResult()
        report = load_report(data, source, result, "matches", "a Grype report")
        if report is None:
            return result
        doc, matches = report
        origin = doc.get("source")
        image, directory = _scope(origin if isinstance(origin, dict) else {})
        distro = opt_text(doc["distro"], "name") if isinstance(doc.get("distro"), dict) else ""
        for index, match in enumerate(matches):
            try:
                result.findings.append(
                    self._match(as_object(match, "the match"), image, directory, distro))
            except RecordError as exc:
                result.skip(f"{source}: matches[{index}]", exc.message)
        return result

    def _match(self, match: dict[str, Any], image: str, directory: str,
               distro: str) -> Finding:
        vuln = as_object(match.get("vulnerability"), "vulnerability")
        artifact = as_object(match.get("artifact"), "artifact")
        vuln_id = text(vuln, "id")
        related = [as_object(item, "a related vulnerability")
                   for item in opt_list(match, "relatedVulnerabilities")]
        others = unique([text(item, "id") for item in related if item.get("id") != vuln_id])
        aliases = others if len(others) == 1 else ()
        same = {vuln_id, *aliases}
        own = [item for item in related if item.get("id") in same]
        paths = [opt_text(as_object(place, "a location"), "path")
                 for place in opt_list(artifact, "locations")]
        path = normalize_path(paths[0], self.root) if paths else ""
        if directory:
            path = path.removeprefix("/")  # directory scans report paths from its root
        kind = opt_text(artifact, "type")
        ecosystem = TYPE_ECOSYSTEMS.get(kind) or DISTRO_ECOSYSTEMS.get(distro, distro or kind)
        package = make_package(text(artifact, "name"), opt_text(artifact, "version"),
                               purl=opt_text(artifact, "purl"), ecosystem=ecosystem,
                               location=path)
        fix = opt_object(vuln, "fix")
        label = opt_text(vuln, "severity")
        score, vector, cvss_source = _cvss(vuln, own)
        description = opt_text(vuln, "description") or next(
            (opt_text(item, "description") for item in own if item.get("description")), "")
        references = [*texts(vuln, "urls")]
        for item in related:
            references.extend(texts(item, "urls"))
        extra: dict[str, Any] = {
            "tool_severity": label, "namespace": opt_text(vuln, "namespace"),
            # a distribution's own feed (debian:distro:debian:12): the rating is the vendor's
            "vendor_severity": label if ":distro:" in opt_text(vuln, "namespace") else "",
            "fix_state": opt_text(fix, "state"), "data_source": opt_text(vuln, "dataSource"),
            "cvss_source": cvss_source, "paths": [normalize_path(p, self.root) for p in paths],
            "related": list(others) if not aliases else [],
        }
        return Finding(
            kind="vulnerability", rule=vuln_id, title=f"{vuln_id} in {package.name}",
            severity=severity_from_label(label), location=image or path, tool=self.name,
            aliases=aliases, package=package, fixed_in=texts(fix, "versions"),
            description=description, cvss_vector=vector, cvss_score=score,
            references=unique(references),
            extra={key: value for key, value in extra.items() if value},
        )


def _scope(origin: dict[str, Any]) -> tuple[str, str]:
    """The image scanned (without tag or digest), or the directory scanned."""
    kind = opt_text(origin, "type")
    target = origin.get("target")
    if kind == "image" and isinstance(target, dict):
        return normalize_image(opt_text(target, "userInput")), ""
    if kind == "directory":
        return "", target if isinstance(target, str) else "."
    return "", ""


def _cvss(vuln: dict[str, Any],
          related: list[dict[str, Any]]) -> tuple[float | None, str | None, str]:
    """The newest CVSS version of the matched record, else of NVD's related record."""
    nvd = [item for item in related if opt_text(item, "namespace").startswith("nvd")]
    for record in (vuln, *nvd, *related):
        best: tuple[str, float, str] | None = None
        for entry in opt_list(record, "cvss"):
            entry = as_object(entry, "a cvss entry")
            score = opt_number(opt_object(entry, "metrics").get("baseScore"), "baseScore")
            if score is None:
                continue
            version = opt_text(entry, "version")
            if best is None or version > best[0]:
                best = (version, score, opt_text(entry, "vector"))
        if best is not None:
            return best[1], best[2] or None, opt_text(record, "namespace")
    return None, None, ""

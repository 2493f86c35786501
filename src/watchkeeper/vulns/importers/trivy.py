"""Trivy's JSON report (``trivy image|fs|repo|sbom --format json``, schema 2):
vulnerabilities, misconfigurations and secrets of each ``Results[]`` target."""

from __future__ import annotations

import re
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
    load_json_object,
    opt_number,
    opt_object,
    opt_text,
    text,
    texts,
    unique,
)
from watchkeeper.vulns.model import Finding

TYPE_ECOSYSTEMS = {
    "pip": "PyPI", "pipenv": "PyPI", "poetry": "PyPI", "uv": "PyPI", "python-pkg": "PyPI",
    "npm": "npm", "yarn": "npm", "pnpm": "npm", "bun": "npm", "node-pkg": "npm",
    "gomod": "Go", "gobinary": "Go", "cargo": "crates.io", "rust-binary": "crates.io",
    "bundler": "RubyGems", "gemspec": "RubyGems", "composer": "Packagist",
    "composer-vendor": "Packagist", "jar": "Maven", "pom": "Maven", "gradle": "Maven",
    "sbt": "Maven", "nuget": "NuGet", "dotnet-core": "NuGet", "packages-props": "NuGet",
    "pub": "Pub", "hex": "Hex", "conan": "ConanCenter", "cocoapods": "CocoaPods",
    "swift": "SwiftURL",
}
"""Trivy's language ``Type`` values; OS types are distribution names."""

IMAGE_TYPES = frozenset({"container_image", "container-image"})
CVSS_SCORES = (("V40Score", "V40Vector"), ("V3Score", "V3Vector"), ("V2Score", "V2Vector"))


class TrivyImporter(Importer):
    name: ClassVar[str] = "trivy"
    description: ClassVar[str] = "Trivy JSON report: vulnerabilities, misconfigurations, secrets"

    @classmethod
    def sniff(cls, head: bytes) -> int:
        if b'"SchemaVersion"' in head and b'"ArtifactName"' in head:
            return 90
        return 40 if b'"Results"' in head and b'"Target"' in head else 0

    def load(self, data: bytes, source: str) -> ImportResult:
        result = ImportResult()
        doc = load_json_object(data, source, result)
        if doc is None:
            return result
        if "Results" not in doc and "SchemaVersion" not in doc:
            result.skip(source, "not a Trivy report: no SchemaVersion and no Results")
            return result
        image = ""
        if opt_text(doc, "ArtifactType") in IMAGE_TYPES:
            image = normalize_image(opt_text(doc, "ArtifactName"))
        results = doc.get("Results") or []
        if not isinstance(results, list):
            result.skip(f"{source}: Results", "Results is not a list")
            return result
        for index, target in enumerate(results):
            where = f"{source}: Results[{index}]"
            if not isinstance(target, dict) or not target.get("Target"):
                result.skip(where, "a result without a Target")
                continue
            self._target(target, image, where, result)
        return result

    def _target(self, target: dict[str, Any], image: str, where: str,
                result: ImportResult) -> None:
        sections = (("Vulnerabilities", self._vulnerability),
                    ("Misconfigurations", self._misconfiguration), ("Secrets", self._secret))
        for section, read in sections:
            records = target.get(section) or []
            if not isinstance(records, list):
                result.skip(f"{where}.{section}", f"{section} is not a list")
                continue
            for index, record in enumerate(records):
                try:
                    finding = read(as_object(record, "the record"), target, image)
                except RecordError as exc:
                    result.skip(f"{where}.{section}[{index}]", exc.message)
                    continue
                if finding is not None:
                    result.findings.append(finding)

    def _vulnerability(self, record: dict[str, Any], target: dict[str, Any],
                       image: str) -> Finding:
        vuln_id = text(record, "VulnerabilityID")
        name = text(record, "PkgName")
        target_name = text(target, "Target")
        os_packages = opt_text(target, "Class") == "os-pkgs"
        path = normalize_path(opt_text(record, "PkgPath") or ("" if os_packages else target_name),
                              self.root)
        package = make_package(
            name, opt_text(record, "InstalledVersion"),
            purl=opt_text(opt_object(record, "PkgIdentifier"), "PURL"),
            ecosystem=_ecosystem(opt_text(target, "Type")), location=path)
        label = opt_text(record, "Severity")
        score, vector, cvss_source = _cvss(record)
        fixed = tuple(v.strip() for v in opt_text(record, "FixedVersion").split(",") if v.strip())
        status = opt_text(record, "Status")
        extra: dict[str, Any] = {
            "tool_severity": label, "target": target_name,
            "vendor_severity": _vendor_severity(record, opt_text(target, "Type")),
            "vendor_status": status if status in VENDOR_STATUSES else "",
            "severity_source": opt_text(record, "SeveritySource"),
            "status": status, "cwe": list(texts(record, "CweIDs")),
            "layer": opt_text(opt_object(record, "Layer"), "DiffID"),
            "primary_url": opt_text(record, "PrimaryURL"), "cvss_source": cvss_source,
        }
        return Finding(
            kind="vulnerability", rule=vuln_id,
            title=opt_text(record, "Title") or f"{vuln_id} in {package.name}",
            severity=severity_from_label(label),
            location=image or path or normalize_path(_os_target(target_name), self.root),
            tool=self.name, package=package, fixed_in=fixed,
            description=opt_text(record, "Description"), cvss_vector=vector, cvss_score=score,
            references=unique(texts(record, "References")),
            extra={key: value for key, value in extra.items() if value},
        )

    def _misconfiguration(self, record: dict[str, Any], target: dict[str, Any],
                          image: str) -> Finding | None:
        if opt_text(record, "Status") not in ("", "FAIL"):
            return None  # passed or exempted checks are not findings
        check = text(record, "ID")
        cause = opt_object(record, "CauseMetadata")
        # The resource keeps the key when lines move; the line is the fallback.
        anchor = opt_text(cause, "Resource") or opt_text(cause, "StartLine")
        label = opt_text(record, "Severity")
        extra: dict[str, Any] = {
            "tool_severity": label, "message": opt_text(record, "Message"),
            "resolution": opt_text(record, "Resolution"), "avd_id": opt_text(record, "AVDID"),
            "line": opt_text(cause, "StartLine"), "resource": opt_text(cause, "Resource"),
            "primary_url": opt_text(record, "PrimaryURL"),
        }
        return Finding(
            kind="misconfiguration", rule=check, title=opt_text(record, "Title") or check,
            severity=severity_from_label(label),
            location=self._place(target, image, anchor), tool=self.name,
            description=opt_text(record, "Description"),
            references=unique(texts(record, "References")),
            extra={key: value for key, value in extra.items() if value},
        )

    def _secret(self, record: dict[str, Any], target: dict[str, Any], image: str) -> Finding:
        rule = text(record, "RuleID")
        label = opt_text(record, "Severity")
        line = opt_text(record, "StartLine")
        extra = {"tool_severity": label, "category": opt_text(record, "Category"), "line": line}
        return Finding(
            kind="secret", rule=rule, title=opt_text(record, "Title") or rule,
            severity=severity_from_label(label), location=self._place(target, image, line),
            tool=self.name, extra={key: value for key, value in extra.items() if value},
        )

    def _place(self, target: dict[str, Any], image: str, anchor: str) -> str:
        """``file:anchor``, inside the image as ``image!file:anchor``."""
        place = normalize_path(text(target, "Target"), self.root)
        if anchor:
            place = f"{place}:{anchor}"
        return f"{image}!{place}" if image else place


def _os_target(name: str) -> str:
    """An OS packages target less the ``(debian 12.5)`` it ends with."""
    return re.sub(r"\s*\([^)]*\)$", "", name)


VENDOR_STATUSES = frozenset({"will_not_fix", "end_of_life", "affected"})
"""What a distribution says of a flaw it has not fixed, kept in ``extra["vendor_status"]``."""

VENDOR_LEVELS = {0: "UNKNOWN", 1: "LOW", 2: "MEDIUM", 3: "HIGH", 4: "CRITICAL"}
"""Trivy's ``VendorSeverity`` numbers."""


def _vendor_severity(record: dict[str, Any], kind: str) -> str:
    """The distribution's own rating of the flaw, when Trivy gives it: its
    ``VendorSeverity`` entry (the target's ``Type`` names the distribution), else the
    label when the distribution is its ``SeveritySource``."""
    vendor = kind.lower()
    if vendor not in DISTRO_ECOSYSTEMS:
        return ""
    level = opt_object(record, "VendorSeverity").get(vendor)
    if isinstance(level, int) and not isinstance(level, bool) and level in VENDOR_LEVELS:
        return VENDOR_LEVELS[level] if level else ""
    if opt_text(record, "SeveritySource").lower() == vendor:
        return opt_text(record, "Severity")
    return ""


def _ecosystem(kind: str) -> str:
    return TYPE_ECOSYSTEMS.get(kind) or DISTRO_ECOSYSTEMS.get(kind, kind)


def _cvss(record: dict[str, Any]) -> tuple[float | None, str | None, str]:
    """The score and vector of the source Trivy took its severity from, else NVD's, else
    the first other; the newest CVSS version each has."""
    scores = opt_object(record, "CVSS")
    preferred = opt_text(record, "SeveritySource")
    order = [preferred, "nvd", *sorted(scores)]
    for source in dict.fromkeys(order):
        entry = scores.get(source)
        if not isinstance(entry, dict):
            continue
        for score_key, vector_key in CVSS_SCORES:
            score = opt_number(entry.get(score_key), f"CVSS.{source}.{score_key}")
            if score is not None:
                return score, opt_text(entry, vector_key) or None, source
    return None, None, ""

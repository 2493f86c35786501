"""SPDX 2.x JSON SBOMs: packages with a ``purl`` external reference."""

from __future__ import annotations

from typing import Any

from watchkeeper.vulns.model import Package
from watchkeeper.vulns.packages.base import (
    PackageSource,
    PackageSourceError,
    SourceFile,
    expect,
)
from watchkeeper.vulns.packages.sbom import purl_package


def _purl(package: dict[str, Any]) -> str | None:
    for ref in package.get("externalRefs") or []:
        if isinstance(ref, dict) and ref.get("referenceType") == "purl" and \
                str(ref.get("referenceCategory", "")).replace("_", "-") == "PACKAGE-MANAGER":
            return str(ref.get("referenceLocator", "")) or None
    return None


def _described(document: dict[str, Any]) -> set[str]:
    """The SPDX ids the document is about (the scanned image or project itself)."""
    ids = {str(i) for i in document.get("documentDescribes") or []}
    for relation in document.get("relationships") or []:
        if isinstance(relation, dict) and relation.get("relationshipType") == "DESCRIBES":
            ids.add(str(relation.get("relatedSpdxElement")))
    return ids


def read_spdx(file: SourceFile, document: dict[str, Any]) -> list[Package]:
    """The packages of an SPDX document already parsed from JSON."""
    described = _described(document)
    found: list[Package] = []
    for package in expect(document.get("packages") or [], list, "packages"):
        package = expect(package, dict, "a package")
        spdx_id = str(package.get("SPDXID", ""))
        purl = _purl(package)
        if spdx_id in described and purl is None:
            continue  # the subject of the document, not one of its parts
        version = package.get("versionInfo")
        label = spdx_id or str(package.get("name", "?"))
        found_one = purl_package(file, purl, str(version) if version else None, label)
        if found_one is not None:
            found.append(found_one)
    return found


class SpdxJson(PackageSource):
    """SPDX JSON: ``*.spdx.json``."""

    name = "spdx-json"
    patterns = ("*.spdx.json",)

    def extract(self, file: SourceFile) -> list[Package]:
        document = expect(file.json(), dict, "the SBOM")
        if not str(document.get("spdxVersion", "")).startswith("SPDX-2."):
            raise PackageSourceError("not an SPDX 2 document (no spdxVersion SPDX-2.x)")
        return read_spdx(file, document)


class SbomJson(PackageSource):
    """``sbom.json`` and ``*.sbom.json``: CycloneDX or SPDX, told by their content."""

    name = "sbom-json"
    patterns = ("sbom.json", "*.sbom.json")

    def extract(self, file: SourceFile) -> list[Package]:
        from watchkeeper.vulns.packages.cyclonedx import read_cyclonedx

        document = expect(file.json(), dict, "the SBOM")
        if document.get("bomFormat") == "CycloneDX":
            return read_cyclonedx(file, document)
        if str(document.get("spdxVersion", "")).startswith("SPDX-2."):
            return read_spdx(file, document)
        raise PackageSourceError("neither a CycloneDX nor an SPDX 2 document")

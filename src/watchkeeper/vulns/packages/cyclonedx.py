"""CycloneDX SBOMs (JSON and XML): components named by purl, nested ones included.

The ``dependencies`` graph, when present, tells which components the described one
(``metadata.component``) depends on directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element

from watchkeeper.vulns.model import Package
from watchkeeper.vulns.packages.base import (
    PackageSource,
    PackageSourceError,
    SourceFile,
    expect,
)
from watchkeeper.vulns.packages.sbom import purl_package


def _components(items: Any, what: str) -> Iterator[dict[str, Any]]:
    for item in expect(items or [], list, what):
        item = expect(item, dict, "a component")
        yield item
        yield from _components(item.get("components"), "components")


def _direct_refs(document: dict[str, Any]) -> set[str] | None:
    metadata = document.get("metadata") or {}
    subject = metadata.get("component") if isinstance(metadata, dict) else None
    ref = subject.get("bom-ref") if isinstance(subject, dict) else None
    graph = document.get("dependencies")
    if not ref or not isinstance(graph, list):
        return None
    for node in graph:
        if isinstance(node, dict) and node.get("ref") == ref:
            return {str(r) for r in node.get("dependsOn") or []}
    return None


def read_cyclonedx(file: SourceFile, document: dict[str, Any]) -> list[Package]:
    """The packages of a CycloneDX document already parsed from JSON."""
    direct = _direct_refs(document)
    found: list[Package] = []
    for component in _components(document.get("components"), "components"):
        label = str(component.get("bom-ref") or component.get("name") or "?")
        ref = component.get("bom-ref")
        package = purl_package(file, component.get("purl"), component.get("version"), label,
                               None if direct is None else ref in direct)
        if package is not None:
            found.append(package)
    return found


class CycloneDxJson(PackageSource):
    """CycloneDX JSON: ``bom.json``, ``*.cdx.json``, ``*.cyclonedx.json``."""

    name = "cyclonedx-json"
    patterns = ("bom.json", "*.cdx.json", "*.cyclonedx.json")

    def extract(self, file: SourceFile) -> list[Package]:
        document = expect(file.json(), dict, "the SBOM")
        if document.get("bomFormat") != "CycloneDX":
            raise PackageSourceError("not a CycloneDX document (no bomFormat CycloneDX)")
        return read_cyclonedx(file, document)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child_text(element: Element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip() or None
    return None


def _xml_components(element: Element) -> Iterator[Element]:
    for child in element:
        if _local(child.tag) == "components":
            for component in child:
                if _local(component.tag) == "component":
                    yield component
                    yield from _xml_components(component)


class CycloneDxXml(PackageSource):
    """CycloneDX XML: ``bom.xml``, ``*.cdx.xml``, ``*.cyclonedx.xml``."""

    name = "cyclonedx-xml"
    patterns = ("bom.xml", "*.cdx.xml", "*.cyclonedx.xml")

    def extract(self, file: SourceFile) -> list[Package]:
        from defusedxml import ElementTree as SafeTree  # entities and DTDs refused

        try:
            root = SafeTree.fromstring(file.read_bytes())
        except SafeTree.ParseError as exc:
            raise PackageSourceError(f"not XML: {exc}") from None
        if _local(root.tag) != "bom":
            raise PackageSourceError("not a CycloneDX document (no bom element)")
        found: list[Package] = []
        for component in _xml_components(root):
            label = component.get("bom-ref") or _child_text(component, "name") or "?"
            package = purl_package(file, _child_text(component, "purl"),
                                   _child_text(component, "version"), label)
            if package is not None:
                found.append(package)
        return found

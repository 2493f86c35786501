"""Importing other scanners' reports: findings, VEX statements and assets.

    result = import_report(data, source="trivy.json")   # the format detected
    result.findings    # Finding records (see watchkeeper.vulns.model)
    result.skipped     # (where, reason) of each record that could not be read
    result.vex         # VexStatement records (CycloneDX VEX)
    result.assets      # Asset records (nmap)

The format is named (``format="grype"``) or detected from the first 64 KiB. Only an
unknown format name raises (UsageError); everything else that cannot be read, the
whole report included, is reported in ``skipped``.
"""

from __future__ import annotations

import os
from pathlib import Path

from watchkeeper.vulns.importers.base import (
    ENTRY_POINT_GROUP,
    Importer,
    ImporterRegistry,
    ImportResult,
    VexStatement,
)
from watchkeeper.vulns.importers.cyclonedx_vex import CycloneDxVexImporter
from watchkeeper.vulns.importers.grype import GrypeImporter
from watchkeeper.vulns.importers.nmap import Asset, NmapImporter, Service
from watchkeeper.vulns.importers.openvas import OpenVasImporter
from watchkeeper.vulns.importers.osv_scanner import OsvScannerImporter
from watchkeeper.vulns.importers.own import WatchkeeperImporter
from watchkeeper.vulns.importers.pip_audit import PipAuditImporter
from watchkeeper.vulns.importers.sarif import SarifImporter
from watchkeeper.vulns.importers.trivy import TrivyImporter

SNIFF_SIZE = 64 * 1024

__all__ = [
    "ENTRY_POINT_GROUP",
    "Asset",
    "ImportResult",
    "Importer",
    "ImporterRegistry",
    "Service",
    "VexStatement",
    "builtin_importers",
    "default_registry",
    "import_file",
    "import_report",
]


def builtin_importers() -> list[type[Importer]]:
    return [TrivyImporter, GrypeImporter, OsvScannerImporter, PipAuditImporter, SarifImporter,
            CycloneDxVexImporter, OpenVasImporter, NmapImporter, WatchkeeperImporter]


def default_registry() -> ImporterRegistry:
    """The built-in importers, then those of installed plugins (entry points)."""
    registry = ImporterRegistry()
    for importer in builtin_importers():
        registry.register(importer)
    registry.load_entry_points()
    return registry


def import_report(
    data: bytes,
    *,
    source: str = "<report>",
    format: str | None = None,
    registry: ImporterRegistry | None = None,
    root: str | None = None,
) -> ImportResult:
    """Everything one report holds. ``root`` is the checkout directory the scanner saw,
    stripped from absolute paths so that locations do not depend on it."""
    registry = registry if registry is not None else default_registry()
    importer = registry.get(format) if format else None
    if importer is None:
        if not data.strip():
            return ImportResult(skipped=[(source, "empty report")])
        importer = registry.detect(data[:SNIFF_SIZE])
        if importer is None:
            known = ", ".join(registry.names())
            reason = f"unknown report format (none of {known} recognises it; name one)"
            return ImportResult(skipped=[(source, reason)])
    return importer(root=root).load(data, source)


def import_file(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    registry: ImporterRegistry | None = None,
    root: str | None = None,
) -> ImportResult:
    """:func:`import_report` of a file; a file that cannot be read is skipped."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return ImportResult(skipped=[(str(path), f"cannot read: {exc.strerror or exc}")])
    return import_report(data, source=str(path), format=format, registry=registry, root=root)

"""The packages of a path: lockfiles, SBOMs, OS package databases, folders and images.

    extraction = extract(["repo/", "image.tar"])
    extraction.packages   # Package(ecosystem, name, version, location, purl, direct)
    extraction.skipped    # (location, reason) for what was not counted

Each kind of file is read by a :class:`PackageSource` found by file name in a
:class:`SourceRegistry`; the built-in sources come first, then those that installed
plugins declare in the ``watchkeeper.package_sources`` entry point group. Errors:

    PackageSourceError (InputError, 422)  a source that cannot be read: reported, not raised
    PurlError (InputError, 422)           a string that is not a package URL
    UsageError (400)                      a path that does not exist, two sources of one name
"""

from __future__ import annotations

from watchkeeper.vulns.packages.base import (
    ENTRY_POINT_GROUP,
    FileTree,
    Limits,
    PackageSource,
    PackageSourceError,
    Skipped,
    SourceFile,
    SourceRegistry,
)
from watchkeeper.vulns.packages.cyclonedx import CycloneDxJson, CycloneDxXml
from watchkeeper.vulns.packages.golang import GoMod, GoSum
from watchkeeper.vulns.packages.npm import PackageLock
from watchkeeper.vulns.packages.osdb import Apk, Dpkg
from watchkeeper.vulns.packages.php import ComposerLock
from watchkeeper.vulns.packages.pnpm import PnpmLock
from watchkeeper.vulns.packages.purl import Purl, PurlError, from_purl, parse_purl, purl_for
from watchkeeper.vulns.packages.python import PipfileLock, PoetryLock, Requirements, UvLock
from watchkeeper.vulns.packages.ruby import GemfileLock
from watchkeeper.vulns.packages.rust import CargoLock
from watchkeeper.vulns.packages.service import Extraction, extract
from watchkeeper.vulns.packages.spdx import SbomJson, SpdxJson
from watchkeeper.vulns.packages.yarn import YarnLock

__all__ = [
    "ENTRY_POINT_GROUP",
    "Extraction",
    "FileTree",
    "Limits",
    "PackageSource",
    "PackageSourceError",
    "Purl",
    "PurlError",
    "Skipped",
    "SourceFile",
    "SourceRegistry",
    "builtin_sources",
    "default_registry",
    "extract",
    "from_purl",
    "parse_purl",
    "purl_for",
]


def builtin_sources() -> list[type[PackageSource]]:
    """The sources shipped with Watchkeeper, in the order they are asked."""
    return [Requirements, PoetryLock, PipfileLock, UvLock, PackageLock, YarnLock, PnpmLock,
            GoMod, GoSum, CargoLock, GemfileLock, ComposerLock, CycloneDxJson, CycloneDxXml,
            SpdxJson, SbomJson, Dpkg, Apk]


def default_registry(*, entry_points: bool = True) -> SourceRegistry:
    """The built-in sources, then those of installed plugins (entry points)."""
    registry = SourceRegistry()
    for source in builtin_sources():
        registry.register(source)
    if entry_points:
        registry.load_entry_points()
    return registry

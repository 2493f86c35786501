"""What SBOM sources share: a component's purl turned into a package."""

from __future__ import annotations

from watchkeeper.vulns.model import Package
from watchkeeper.vulns.packages.base import SourceFile
from watchkeeper.vulns.packages.purl import PurlError, from_purl, parse_purl


def purl_package(file: SourceFile, purl: str | None, version: str | None, label: str,
                 direct: bool | None = None) -> Package | None:
    """The package named by ``purl`` (its version, else ``version``), or None after
    reporting why there is none."""
    if not purl:
        file.skip("a component without a purl", label)
        return None
    try:
        ecosystem, name, purl_version = from_purl(parse_purl(purl))
    except PurlError as exc:
        file.skip(exc.message, label)
        return None
    version = purl_version or version
    if not version:
        file.skip("a component without a version", label)
        return None
    return Package(ecosystem=ecosystem, name=name, version=version, location=file.location,
                   purl=purl, direct=direct)

"""What makes keys stable: locations without tags, digests or checkout paths, package
names as OSV spells them, and each tool's severity scale mapped to :class:`Severity`."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import unquote

from watchkeeper.vulns.cvss import severity_of_score
from watchkeeper.vulns.model import Package, Severity
from watchkeeper.vulns.packages import purl as packages_purl

PURL_ECOSYSTEMS = {
    "pypi": "PyPI", "npm": "npm", "golang": "Go", "cargo": "crates.io", "gem": "RubyGems",
    "composer": "Packagist", "maven": "Maven", "nuget": "NuGet", "hex": "Hex", "pub": "Pub",
    "cocoapods": "CocoaPods", "swift": "SwiftURL", "conan": "ConanCenter",
    "hackage": "Hackage", "cran": "CRAN", "github": "GitHub Actions",
}
"""purl types whose OSV ecosystem does not depend on the namespace."""

DISTRO_ECOSYSTEMS = {
    "debian": "Debian", "ubuntu": "Ubuntu", "alpine": "Alpine", "wolfi": "Wolfi",
    "chainguard": "Chainguard", "redhat": "Red Hat", "rhel": "Red Hat",
    "rocky": "Rocky Linux", "almalinux": "AlmaLinux", "alma": "AlmaLinux",
    "opensuse": "openSUSE", "suse": "SUSE", "sles": "SUSE", "photon": "Photon OS",
    "mariner": "Mariner", "azurelinux": "Azure Linux", "amazon": "Amazon Linux",
    "oracle": "Oracle Linux", "centos": "CentOS", "fedora": "Fedora",
}
"""Distribution names (purl namespaces of deb/apk/rpm, scanners' OS families)."""

NAMESPACED = frozenset({"maven", "npm", "golang", "composer", "github", "swift"})


@dataclass(frozen=True)
class Purl:
    type: str
    namespace: str
    name: str
    version: str

    @property
    def ecosystem(self) -> str:
        if self.type in PURL_ECOSYSTEMS:
            return PURL_ECOSYSTEMS[self.type]
        return DISTRO_ECOSYSTEMS.get(self.namespace.lower(), self.namespace or self.type)

    @property
    def package_name(self) -> str:
        """The name as OSV spells it: ``group:artifact`` for Maven, ``@scope/name`` for npm."""
        if self.type == "maven" and self.namespace:
            return f"{self.namespace}:{self.name}"
        if self.type in NAMESPACED and self.namespace:
            return f"{self.namespace}/{self.name}"
        if self.type == "pypi":
            return pep503(self.name)
        return self.name


def parse_purl(text: str) -> Purl | None:
    """``pkg:type/namespace/name@version?qualifiers#subpath`` (read by the package
    extractors' parser), or None when it is not one: a scanner's bad purl is not an error,
    the finding just has no package identity from it."""
    try:
        read = packages_purl.parse_purl(text)
    except packages_purl.PurlError:
        return None
    return Purl(read.type, read.namespace or "", read.name, read.version or "")


def pep503(name: str) -> str:
    """PyPI's normal form: lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def make_package(
    name: str, version: str, *, purl: str = "", ecosystem: str = "", location: str = ""
) -> Package:
    """A package named as OSV names it: from its purl when there is one."""
    parsed = parse_purl(purl) if purl else None
    if parsed is not None:
        return Package(parsed.ecosystem, parsed.package_name, version or parsed.version,
                       location, purl)
    if ecosystem == "PyPI":
        name = pep503(name)
    return Package(ecosystem, name, version, location, purl or None)


def normalize_image(reference: str) -> str:
    """An image without tag or digest, and Docker Hub's implicit prefixes dropped:
    ``docker.io/library/nginx:1.25@sha256:…`` → ``nginx``."""
    name = reference.strip().split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name = name[:colon]
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            name = name.removeprefix("library/")
    return name


def normalize_path(path: str, root: str | None = None) -> str:
    """A path as a key can use: ``/`` separators, no ``./`` or ``..``, no ``file://``,
    and relative to ``root`` when under it."""
    path = path.strip().replace("\\", "/")
    if path.startswith("file://"):
        path = unquote(path[len("file://"):])
    if not path:
        return ""
    path = posixpath.normpath(path)
    if root:
        base = posixpath.normpath(root.replace("\\", "/")).rstrip("/")
        if path == base:
            return ""
        if path.startswith(base + "/"):
            path = path[len(base) + 1:]
    return "" if path == "." else path.removeprefix("./")


def network_location(host: str, port: str = "", protocol: str = "") -> str:
    """``host:port/protocol`` (IPv6 in brackets), or the host alone for host-wide results."""
    host = host.strip()
    if not port:
        return host
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}/{protocol}" if protocol else f"{shown}:{port}"


def severity_from_score(score: float) -> Severity:
    """CVSS v3/v4 qualitative ratings (see :func:`watchkeeper.vulns.cvss.severity_of_score`)."""
    return severity_of_score(score)


LABELS = {
    "critical": Severity.CRITICAL, "high": Severity.HIGH, "important": Severity.HIGH,
    "medium": Severity.MEDIUM, "moderate": Severity.MEDIUM, "low": Severity.LOW,
    "negligible": Severity.INFO, "info": Severity.INFO, "informational": Severity.INFO,
    "none": Severity.INFO, "log": Severity.INFO, "debug": Severity.INFO,
    "unknown": Severity.UNKNOWN, "unspecified": Severity.UNKNOWN, "": Severity.UNKNOWN,
}
"""The labels scanners use, by lower case: Trivy's, Grype's (Negligible), GHSA's
(MODERATE), Red Hat's (Important), OpenVAS's threat levels (Log, Debug)."""


def severity_from_label(label: str) -> Severity:
    return LABELS.get(label.strip().lower(), Severity.UNKNOWN)

"""What the vulnerability capability talks about: packages, vulnerabilities, findings.

A package is identified without its version (``ecosystem``, ``name``) so that a version
bump is the same package; a finding's ``key`` is built from what does not change between
scans of the same flaw (the vulnerability or its alias group, the package without its
version, the place it was found), never from titles or descriptions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    UNKNOWN = "unknown"
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class Package:
    """One installed or pinned package, and where it was seen."""

    ecosystem: str
    """OSV's ecosystem name: ``PyPI``, ``npm``, ``Go``, ``crates.io``, ``RubyGems``,
    ``Packagist``, ``Maven``, ``Debian``, ``Alpine``, …"""
    name: str
    version: str
    location: str = ""
    """The file (lockfile, SBOM, status database, image layer) it was read from."""
    purl: str | None = None
    direct: bool | None = None
    """A direct dependency (True), a transitive one (False), or unknown (None)."""

    @property
    def identity(self) -> tuple[str, str]:
        """The package without its version."""
        return (self.ecosystem, self.name.lower() if self.ecosystem in CASELESS else self.name)


CASELESS = frozenset({"PyPI", "Packagist", "NuGet"})
"""Ecosystems whose package names compare without case."""


@dataclass(frozen=True)
class Finding:
    """A flaw reported in one place: a vulnerable package, a misconfiguration, a secret."""

    kind: str
    """``vulnerability``, ``misconfiguration`` or ``secret``."""
    rule: str
    """The vulnerability id (CVE-…, GHSA-…, PYSEC-…) or the policy/check id."""
    title: str
    severity: Severity
    location: str
    """File and line, image and layer, host and port: where to fix it."""
    tool: str
    """What found it: ``watchkeeper``, ``trivy``, ``grype``, ``osv-scanner``, …"""
    aliases: tuple[str, ...] = ()
    package: Package | None = None
    fixed_in: tuple[str, ...] = ()
    description: str = ""
    cvss_vector: str | None = None
    cvss_score: float | None = None
    references: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def key(self) -> str:
        """Stable across scans and tools: the lowest id of the alias group, the package
        without its version, and the place."""
        ids = sorted({self.rule, *self.aliases}, key=_id_order)
        package = "/".join(self.package.identity) if self.package else ""
        text = "\x1f".join([self.kind, ids[0], package, self.location])
        return hashlib.sha256(text.encode()).hexdigest()


def _id_order(value: str) -> tuple[int, str]:
    """CVE ids first (the name most tools share), then GHSA, then the rest."""
    for rank, prefix in enumerate(("CVE-", "GHSA-")):
        if value.upper().startswith(prefix):
            return rank, value.upper()
    return 2, value.upper()

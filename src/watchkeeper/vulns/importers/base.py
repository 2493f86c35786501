"""The importer abstraction: one class per scanner report format, registered by name.

An importer turns one report (bytes) into an :class:`ImportResult`: the findings, the
VEX statements and the assets it holds, and what it had to skip, with where and why.
Importers are pure: no I/O beyond the bytes they are handed. They never raise for bad
input and never stop at the first bad record; a document that cannot be read at all is
one skipped entry for the whole source.

Third parties add formats through the ``watchkeeper.importers`` entry point group; each
entry point names an :class:`Importer` subclass.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, ClassVar

from watchkeeper.errors import UsageError
from watchkeeper.vulns.model import Finding

if TYPE_CHECKING:
    from watchkeeper.vulns.importers.nmap import Asset

ENTRY_POINT_GROUP = "watchkeeper.importers"

VEX_STATES = frozenset({
    "resolved", "resolved_with_pedigree", "exploitable", "in_triage", "false_positive",
    "not_affected",
})
"""CycloneDX's ``analysis.state`` values."""


@dataclass(frozen=True)
class VexStatement:
    """What a producer says about one vulnerability in one package: not a finding, but
    a statement to apply to findings (``not_affected`` because ``code_not_reachable``)."""

    vuln_id: str
    state: str
    """One of :data:`VEX_STATES`."""
    purl: str | None
    identity: tuple[str, str] | None
    """The package without its version, as in :attr:`Package.identity`, when the purl
    names an ecosystem Watchkeeper knows."""
    justification: str | None = None
    detail: str = ""
    response: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def applies_to(self, finding: Finding) -> bool:
        """Whether this statement speaks of ``finding``: one of its ids, and its package."""
        ids = {self.vuln_id.upper(), *(alias.upper() for alias in self.aliases)}
        if not ids & {finding.rule.upper(), *(a.upper() for a in finding.aliases)}:
            return False
        if finding.package is None:
            return False
        if self.identity is not None:
            return finding.package.identity == self.identity
        return self.purl is not None and finding.package.purl == self.purl


@dataclass
class ImportResult:
    """What one report held, and what could not be read from it (``(where, reason)``)."""

    findings: list[Finding] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    vex: list[VexStatement] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)

    def skip(self, where: str, reason: str) -> None:
        self.skipped.append((where, reason))

    def extend(self, other: ImportResult) -> None:
        self.findings.extend(other.findings)
        self.skipped.extend(other.skipped)
        self.vex.extend(other.vex)
        self.assets.extend(other.assets)


class Importer(ABC):
    """Reads one report format. Subclasses set ``name`` and implement ``sniff`` and ``load``."""

    name: ClassVar[str]
    """The registry name, used by ``--format`` and in configuration (``type:``)."""
    description: ClassVar[str] = ""

    def __init__(self, *, root: str | None = None) -> None:
        self.root = root
        """A directory prefix to strip from absolute paths (the scanner's checkout), so
        that findings keep their location when CI checks out elsewhere."""

    @classmethod
    @abstractmethod
    def sniff(cls, head: bytes) -> int:
        """How sure this importer is (0 = not mine, 100 = certainly mine) from the first
        64 KiB of a report."""

    @abstractmethod
    def load(self, data: bytes, source: str) -> ImportResult:
        """Everything ``data`` holds; ``source`` names it in skipped entries."""


class ImporterRegistry:
    """Maps importer names to importer classes: the built-ins, then entry points."""

    def __init__(self) -> None:
        self._importers: dict[str, type[Importer]] = {}

    def register(self, importer: type[Importer]) -> type[Importer]:
        known = self._importers.get(importer.name)
        if known is not None and known is not importer:
            raise UsageError(f"two importers are registered as {importer.name!r}")
        self._importers[importer.name] = importer
        return importer

    def names(self) -> list[str]:
        return sorted(self._importers)

    def get(self, name: str) -> type[Importer]:
        try:
            return self._importers[name]
        except KeyError:
            known = ", ".join(self.names())
            raise UsageError(f"unknown report format {name!r} (known: {known})") from None

    def detect(self, head: bytes) -> type[Importer] | None:
        """The importer most sure of ``head``, or None when none claims it."""
        best: tuple[int, str] = (0, "")
        for name, importer in sorted(self._importers.items()):
            score = importer.sniff(head)
            if score > best[0]:
                best = (score, name)
        return self._importers[best[1]] if best[0] > 0 else None

    def load_entry_points(self) -> None:
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            self.register(entry.load())

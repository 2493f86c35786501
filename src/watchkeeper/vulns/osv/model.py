"""OSV records as typed objects: only the fields matching and reporting need, with the
rest of each record kept as it came (``raw``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    """One range event: exactly one of introduced, fixed, last_affected, limit."""

    kind: str
    version: str


@dataclass(frozen=True, slots=True)
class Range:
    type: str
    """``SEMVER``, ``ECOSYSTEM`` or ``GIT``."""
    events: tuple[Event, ...]
    repo: str | None = None


@dataclass(frozen=True, slots=True)
class OsvPackage:
    ecosystem: str
    name: str
    purl: str | None = None


@dataclass(frozen=True, slots=True)
class Affected:
    package: OsvPackage | None
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    database_specific: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    ecosystem_specific: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def fixed(self) -> tuple[str, ...]:
        """The versions that fix it, in the order the ranges give them."""
        return tuple(
            event.version
            for range_ in self.ranges
            if range_.type != "GIT"
            for event in range_.events
            if event.kind == "fixed"
        )


@dataclass(frozen=True, slots=True)
class SeverityScore:
    type: str
    """``CVSS_V2``, ``CVSS_V3``, ``CVSS_V4`` or ``Ubuntu``."""
    score: str


@dataclass(frozen=True, slots=True)
class Reference:
    type: str
    url: str


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    modified: str
    published: str | None = None
    withdrawn: str | None = None
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    severity: tuple[SeverityScore, ...] = ()
    affected: tuple[Affected, ...] = ()
    references: tuple[Reference, ...] = ()
    database_specific: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    schema_version: str | None = None

"""SemVer 2.0: ``MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]``, build metadata ignored.

Go module versions carry a ``v`` prefix (OSV's SEMVER events leave it out, so it is
optional) and ``+incompatible`` (build metadata, so ignored); npm accepts a leading
``v`` or ``=`` as node-semver does;
crates.io, Hex and Pub take the strict form.
"""

from __future__ import annotations

import re

from watchkeeper.vulns.versions.base import Comparator

_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)

SemverKey = tuple[int, int, int, tuple[tuple[int, int, str], ...]]
_RELEASE: tuple[tuple[int, int, str], ...] = ((2, 0, ""),)


class SemVer(Comparator):
    """Precedence as in SemVer 2.0 §11: numbers numerically, a pre-release before its
    release, pre-release identifiers field by field (numeric before alphanumeric, a
    shorter set first when the rest is equal)."""

    def __init__(self, name: str, prefix: str = "", optional_prefix: str = "") -> None:
        self.name = name
        self.prefix = prefix
        self.optional_prefix = optional_prefix

    def key(self, version: str) -> SemverKey:
        text = version
        if self.prefix:
            if not text.startswith(self.prefix):
                raise self.invalid(version, f"no {self.prefix!r} prefix")
            text = text[len(self.prefix) :]
        elif self.optional_prefix and text[:1] in self.optional_prefix:
            text = text[1:]
        match = _SEMVER.fullmatch(text)
        if match is None:
            raise self.invalid(version, "not MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]")
        major, minor, patch, pre, _build = match.groups()
        if pre is None:
            return int(major), int(minor), int(patch), _RELEASE
        fields = tuple(
            (0, int(part), "") if part.isdigit() else (1, 0, part) for part in pre.split(".")
        )
        return int(major), int(minor), int(patch), fields

"""pnpm's ``pnpm-lock.yaml``, lockfile versions 5 to 9.

Package keys changed over the versions: ``/name/1.0.0_peer@2`` (5), ``/name@1.0.0(peer@2)``
(6 to 8), ``name@1.0.0`` (9). Direct dependencies are the importers' (or, before
workspaces, the top level's) ``dependencies``, ``devDependencies`` and
``optionalDependencies``.
"""

from __future__ import annotations

import re
from typing import Any

from watchkeeper.vulns.model import Package
from watchkeeper.vulns.packages.base import PackageSource, SourceFile, expect
from watchkeeper.vulns.packages.npm import NPM, registry_version

IMPORTER_FIELDS = ("dependencies", "devDependencies", "optionalDependencies")


def parse_key(key: str, major: int) -> tuple[str, str] | None:
    """(name, version) of a ``packages`` key, None when it names no registry release."""
    if major < 9 and not key.startswith("/"):
        return None  # a tarball, git or file dependency
    key = re.sub(r"\(.*$", "", key.lstrip("/"))
    if major < 6:
        name, _, version = key.rpartition("/")
        version = version.split("_", 1)[0]
    else:
        at = key.find("@", 1)
        name, version = (key[:at], key[at + 1:]) if at > 0 else ("", "")
    if not name or registry_version(version) is None:
        return None
    return name, version


def lockfile_major(document: dict[str, Any]) -> int:
    """The major lockfile version (5 to 9); 9 when it does not say."""
    match = re.match(r"\d+", str(document.get("lockfileVersion", "9")))
    return int(match[0]) if match else 9


def _version_of(value: Any) -> str:
    """An importer's resolved version: a string (5) or ``{specifier, version}`` (6+)."""
    if isinstance(value, dict):
        value = value.get("version", "")
    return re.split(r"[(_]", str(value), maxsplit=1)[0]


def _direct(document: dict[str, Any]) -> set[tuple[str, str]]:
    importers = document.get("importers")
    sections = list(importers.values()) if isinstance(importers, dict) else [document]
    direct: set[tuple[str, str]] = set()
    for section in sections:
        for field in IMPORTER_FIELDS:
            entries = section.get(field) if isinstance(section, dict) else None
            if isinstance(entries, dict):
                direct.update((str(n), _version_of(v)) for n, v in entries.items())
    return direct


class PnpmLock(PackageSource):
    """Every entry of ``packages`` that names a registry release, read from its key."""

    name = "pnpm-lock.yaml"
    patterns = ("pnpm-lock.yaml",)

    def extract(self, file: SourceFile) -> list[Package]:
        document = expect(file.yaml(), dict, "the lockfile")
        packages = expect(document.get("packages") or {}, dict, "packages")
        direct = _direct(document)
        major = lockfile_major(document)
        found: list[Package] = []
        for key in packages:
            parsed = parse_key(str(key), major)
            if parsed is None:
                file.skip("no registry version (a git, file, link or URL dependency)",
                          str(key))
                continue
            name, version = parsed
            found.append(file.package(NPM, name, version, direct=(name, version) in direct))
        return found

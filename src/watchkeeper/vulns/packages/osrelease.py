"""The distribution release of a root filesystem, from its ``os-release`` file.

OSV names distribution ecosystems with their release (``Debian:12``, ``Alpine:v3.19``):
the same version of a package is fixed in one release and not in another.
"""

from __future__ import annotations

import shlex

from watchkeeper.vulns.packages.base import PackageSourceError, SourceFile, join
from watchkeeper.vulns.packages.purl import ecosystem_release

OS_RELEASE_PATHS = ("etc/os-release", "usr/lib/os-release")


def parse_os_release(text: str) -> dict[str, str]:
    """``KEY=value`` lines, values unquoted as a shell would."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, equals, value = line.strip().partition("=")
        if not equals or key.startswith("#"):
            continue
        try:
            words = shlex.split(value)
        except ValueError:
            words = [value.strip("\"'")]
        fields[key.strip()] = " ".join(words)
    return fields


def release_ecosystem(file: SourceFile, ecosystem: str, root: str) -> str:
    """``ecosystem`` with the release of the root filesystem at ``root`` when known.

    Debian-like systems that are not Debian nor Ubuntu keep the bare ecosystem; a
    root without ``os-release`` too, and that is reported."""
    for path in OS_RELEASE_PATHS:
        where = join(root, path)
        if not file.tree.exists(where):
            continue
        try:
            fields = parse_os_release(file.tree.read(where, file.limits).decode("utf-8",
                                                                                 "replace"))
        except PackageSourceError:
            continue
        distro = fields.get("ID", "").lower()
        named = {"debian": "Debian", "ubuntu": "Ubuntu", "alpine": "Alpine"}.get(distro)
        if named is None or (ecosystem == "Alpine") != (named == "Alpine"):
            return ecosystem
        return ecosystem_release(named, fields.get("VERSION_ID"))
    file.skip("no etc/os-release beside it: the distribution release is unknown")
    return ecosystem

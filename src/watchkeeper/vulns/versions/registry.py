"""Which version rules an OSV ecosystem uses.

An ecosystem name may carry a release after a colon (``Debian:12``, ``Alpine:v3.19``,
``Ubuntu:22.04:LTS``): the part before the first colon names the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from watchkeeper.vulns.versions.apk import Apk
from watchkeeper.vulns.versions.base import Comparator, UnsupportedEcosystem
from watchkeeper.vulns.versions.composer import Composer
from watchkeeper.vulns.versions.dpkg import Dpkg
from watchkeeper.vulns.versions.maven import Maven
from watchkeeper.vulns.versions.pep440 import Pep440
from watchkeeper.vulns.versions.rubygems import RubyGems
from watchkeeper.vulns.versions.semver import SemVer

BUILTIN: Mapping[str, Comparator] = MappingProxyType(
    {
        "PyPI": Pep440(),
        "Go": SemVer("Go", optional_prefix="v"),
        "npm": SemVer("npm", optional_prefix="v="),
        "crates.io": SemVer("crates.io"),
        "Hex": SemVer("Hex"),
        "Pub": SemVer("Pub"),
        "Packagist": Composer(),
        "RubyGems": RubyGems(),
        "Debian": Dpkg("Debian"),
        "Ubuntu": Dpkg("Ubuntu"),
        "Alpine": Apk(),
        "Maven": Maven(),
    }
)
"""The comparators that ship with Watchkeeper, by OSV ecosystem name (without release)."""


def base_ecosystem(ecosystem: str) -> str:
    """``Debian:12`` → ``Debian``; a name without a release is returned as it is."""
    return ecosystem.split(":", 1)[0]


RELEASE_QUALIFIERS = frozenset({"LTS", "Pro"})
"""Words OSV adds to a release that do not make it another one: ``Ubuntu:22.04:LTS``
and ``Ubuntu:Pro:22.04:LTS`` are the release ``Ubuntu:22.04`` packages are found in."""


def release_of(ecosystem: str) -> str:
    """The release an ecosystem names, without qualifiers: ``22.04`` for ``Ubuntu:22.04``,
    ``Ubuntu:22.04:LTS`` and ``Ubuntu:Pro:22.04:LTS``; ``""`` for a bare ``Ubuntu``."""
    _, _, rest = ecosystem.partition(":")
    return ":".join(part for part in rest.split(":") if part and part not in RELEASE_QUALIFIERS)


def comparator(ecosystem: str) -> Comparator:
    """The version rules of ``ecosystem``; :class:`UnsupportedEcosystem` if none are known."""
    found = BUILTIN.get(base_ecosystem(ecosystem))
    if found is None:
        raise UnsupportedEcosystem(f"no version rules for ecosystem {ecosystem!r}")
    return found

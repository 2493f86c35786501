"""How package names are compared per ecosystem: PyPI by PEP 503 (case, ``-``, ``_``
and ``.`` do not matter), the ecosystems whose registries ignore case in lower case,
the others exactly as written."""

from __future__ import annotations

import re

from watchkeeper.vulns.model import CASELESS
from watchkeeper.vulns.versions import base_ecosystem, release_of

_PEP503 = re.compile(r"[-_.]+")


def normalize_name(ecosystem: str, name: str) -> str:
    base = base_ecosystem(ecosystem)
    if base == "PyPI":
        return _PEP503.sub("-", name).lower()
    if base in CASELESS:
        return name.lower()
    return name


def ecosystems_meet(package_ecosystem: str, entry_ecosystem: str) -> bool:
    """Whether an entry for ``entry_ecosystem`` concerns a package of
    ``package_ecosystem``: same rules, and the same release when both name one
    (``Debian:12`` meets ``Debian`` and ``Debian:12``, not ``Debian:11``; ``Ubuntu:22.04``
    meets ``Ubuntu:22.04:LTS`` and ``Ubuntu:Pro:22.04:LTS``, either way round)."""
    if package_ecosystem == entry_ecosystem:
        return True
    if base_ecosystem(package_ecosystem) != base_ecosystem(entry_ecosystem):
        return False
    mine, theirs = release_of(package_ecosystem), release_of(entry_ecosystem)
    return not mine or not theirs or mine == theirs

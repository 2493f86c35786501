"""Version comparison by each ecosystem's own rules, behind one registry.

    >>> comparator("Debian:12").compare("1:0.9", "2.0")
    1

Errors: :class:`InvalidVersion` (an ``InputError``) for a version the rules cannot read,
:class:`UnsupportedEcosystem` (a ``UsageError``) for an ecosystem without rules.
"""

from watchkeeper.vulns.versions.base import Comparator, InvalidVersion, Key, UnsupportedEcosystem
from watchkeeper.vulns.versions.registry import (
    BUILTIN,
    RELEASE_QUALIFIERS,
    base_ecosystem,
    comparator,
    release_of,
)

__all__ = [
    "BUILTIN",
    "RELEASE_QUALIFIERS",
    "Comparator",
    "InvalidVersion",
    "Key",
    "UnsupportedEcosystem",
    "base_ecosystem",
    "comparator",
    "release_of",
]

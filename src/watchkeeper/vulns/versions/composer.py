"""Packagist: Composer's version ordering.

Composer reads ``[v]N[.N[.N[.N]]]`` padded to four numbers, then an optional stability
suffix: ``dev`` < ``alpha``/``a`` < ``beta``/``b`` < ``RC`` < (the release) <
``patch``/``pl``/``p``, each with an optional number; a trailing ``-dev`` puts a version
just before the same version without it.
"""

from __future__ import annotations

import re

from watchkeeper.vulns.versions.base import Comparator

_VERSION = re.compile(
    r"[vV]?(\d+(?:\.\d+){0,3})"
    r"(?:[._-]?(stable|beta|b|rc|alpha|a|patch|pl|p)((?:[.-]?\d+)*))?"
    r"([.-]?dev)?",
    re.IGNORECASE,
)
_RANK = {"alpha": 1, "a": 1, "beta": 2, "b": 2, "rc": 3, "stable": 4, "patch": 5, "pl": 5, "p": 5}

ComposerKey = tuple[tuple[int, ...], int, tuple[int, ...], int]


class Composer(Comparator):
    name = "Packagist"

    def key(self, version: str) -> ComposerKey:
        match = _VERSION.fullmatch(version.strip())
        if match is None:
            raise self.invalid(version, "not a Composer version")
        numbers, stability, stability_numbers, dev = match.groups()
        release = tuple(int(n) for n in numbers.split("."))
        release += (0,) * (4 - len(release))
        if stability is None:
            rank = 0 if dev and not stability_numbers else 4
        else:
            rank = _RANK[stability.lower()]
        extra = tuple(int(n) for n in re.findall(r"\d+", stability_numbers or ""))
        return release, rank, extra, 0 if dev and stability else 1

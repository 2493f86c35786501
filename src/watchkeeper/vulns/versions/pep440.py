"""PyPI: PEP 440, as ``packaging`` implements it (epochs, pre-, post- and dev-releases,
local versions)."""

from __future__ import annotations

from packaging.version import InvalidVersion as _PackagingInvalid
from packaging.version import Version

from watchkeeper.vulns.versions.base import Comparator


class Pep440(Comparator):
    name = "PyPI"

    def key(self, version: str) -> Version:
        try:
            return Version(version)
        except _PackagingInvalid as error:
            raise self.invalid(version, "not a PEP 440 version") from error

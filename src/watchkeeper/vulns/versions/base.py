"""What every ecosystem's version rules provide: a sort key and a three-way comparison."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Protocol

from watchkeeper.errors import InputError, UsageError


class Key(Protocol):
    """A sort key: keys of one comparator are totally ordered among themselves."""

    def __lt__(self, other: Any, /) -> bool: ...


class InvalidVersion(InputError):
    """A version string that the ecosystem's rules cannot read."""

    def __init__(self, ecosystem: str, version: str, reason: str = "") -> None:
        detail = f": {reason}" if reason else ""
        super().__init__(f"invalid {ecosystem} version {version!r}{detail}")
        self.ecosystem = ecosystem
        self.version = version


class UnsupportedEcosystem(UsageError):
    """No version rules are known for this ecosystem."""


class Comparator(ABC):
    """Orders the versions of one ecosystem by that ecosystem's own rules.

    ``key`` turns a version into a value that sorts like the version (keys of one
    comparator compare among themselves, never with another comparator's);
    equal keys mean versions that the ecosystem holds equal (``1.0`` and ``1.0.0``
    in PEP 440, for instance).
    """

    name: str = ""

    @abstractmethod
    def key(self, version: str) -> Key:
        """The sort key of ``version``; :class:`InvalidVersion` if it cannot be read."""

    def compare(self, a: str, b: str) -> int:
        """-1, 0 or 1 as ``a`` is older than, equal to or newer than ``b``."""
        ka, kb = self.key(a), self.key(b)
        if ka < kb:
            return -1
        if kb < ka:
            return 1
        return 0

    def invalid(self, version: str, reason: str = "") -> InvalidVersion:
        return InvalidVersion(self.name, version, reason)

"""Warning lists (placeholder until the full matcher lands)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from watchkeeper.intel.model import Kind


@dataclass(frozen=True)
class WarningHit:
    list_name: str
    entry: str


@dataclass
class WarningList:
    name: str
    type: str
    entries: list[str]
    kinds: frozenset[Kind] = frozenset()


@dataclass
class WarningLists:
    lists: list[WarningList] = field(default_factory=list)

    @classmethod
    def empty(cls) -> WarningLists:
        return cls()

    def add(self, warning_list: WarningList) -> None:
        self.lists.append(warning_list)

    def names(self) -> list[str]:
        return [w.name for w in self.lists]

    def hit(self, kind: Kind, value: str) -> WarningHit | None:
        for w in self.lists:
            if value in w.entries:
                return WarningHit(w.name, value)
        return None

    def filter(self, kind: Kind, values: Sequence[str]) -> list[WarningHit | None]:
        return [self.hit(kind, v) for v in values]


def builtin_warninglists() -> WarningLists:
    return WarningLists.empty()


def load_warninglists(paths: Sequence[Path]) -> tuple[WarningLists, list[tuple[str, str]]]:
    return WarningLists.empty(), []

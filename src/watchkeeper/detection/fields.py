"""Field resolution: the columns that hold a field a rule names.

A rule's field is read from the column of that name when the event has it;
otherwise from the same value under another name, as ``data/fields.yml`` relates
canonical (ECS) names and the original names of each source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import resources

import yaml

from watchkeeper.errors import MappingError


class FieldAliases:
    """Canonical field → original fields, and each name → every other name of the same value."""

    def __init__(self, table: Mapping[str, Sequence[str]]) -> None:
        self.canonical: dict[str, tuple[str, ...]] = {}
        self._others: dict[str, tuple[str, ...]] = {}
        for canonical, originals in table.items():
            if not isinstance(originals, list) or not all(isinstance(o, str) for o in originals):
                raise MappingError(f"{canonical}: a list of field names is required")
            self.canonical[canonical] = tuple(originals)
            names = (*originals, canonical)
            for name in names:
                others = tuple(n for n in names if n != name)
                self._others[name] = self._others.get(name, ()) + others

    @classmethod
    def default(cls) -> FieldAliases:
        text = resources.files("watchkeeper.detection").joinpath("data/fields.yml").read_text()
        return cls(yaml.safe_load(text))

    def sources(self, field: str, columns: Mapping[str, object] | set[str]) -> list[str]:
        """Columns (present in ``columns``) to read ``field`` from, in order of preference.

        Besides the aliases of the table, a column whose name has spaces matches the
        field spelled without them: Defender's ``Threat Name`` is Sigma's ``ThreatName``.
        """
        found = [field] if field in columns else []
        found.extend(name for name in self._others.get(field, ()) if name in columns)
        if not found:
            found.extend(c for c in columns if " " in c and c.replace(" ", "") == field)
        return found

"""What the engine keeps per logsource: its rules, the fields they read, the literals
their prefilter searches for, and the expressions built once for those searches."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from watchkeeper.detection import ir
from watchkeeper.detection.compiler import KEYWORDS, lower_name
from watchkeeper.detection.logsource import LogSource

FOLDS_TO_ASCII = ("\u0130", "\u212a")
"""The characters outside ASCII whose lower case holds ASCII letters (İ → i̇, K → k)."""


@dataclass(slots=True)
class Group:
    """The rules of one logsource and what evaluating them needs."""

    logsource: LogSource
    route: ir.Node
    fields: set[str] = field(default_factory=set)
    lowered: set[str] = field(default_factory=set)
    cidr: set[str] = field(default_factory=set)
    keywords: bool = False
    keyword_rules: set[int] = field(default_factory=set)
    compiled: dict[int, pl.Expr] = field(default_factory=dict)
    columns: dict[int, list[str]] = field(default_factory=dict)
    """Per rule, the prepared columns its expression reads."""
    def atom(self, atom: tuple[str, str]) -> int:
        atom_id = self.atom_ids.get(atom)
        if atom_id is None:
            atom_id = self.atom_ids[atom] = len(self.atom_ids)
            self.literals.setdefault(atom[0], []).append(atom[1])
            self.field_atoms.setdefault(atom[0], {})[atom[1]] = atom_id
            if atom[0] != KEYWORDS:
                self.lowered.add(atom[0])
        return atom_id

    always: list[int] = field(default_factory=list)
    """Rules without necessary literals: evaluated on every routed row."""
    literals: dict[str, list[str]] = field(default_factory=dict)
    """Per field, every necessary literal of the group's rules."""
    atom_ids: dict[tuple[str, str], int] = field(default_factory=dict)
    field_atoms: dict[str, dict[str, int]] = field(default_factory=dict)
    """The same ids per field: literal → atom id."""
    clauses: dict[int, list[list[int]]] = field(default_factory=dict)
    """Per rule, its prefilter clauses as lists of atom ids."""
    _cache: dict[object, object] = field(default_factory=dict)
    """Expressions and lookup tables built on first use and kept: the group's literals do
    not change after the engine is built, and building them anew cost a small batch more
    than searching it."""

    def searches(self) -> tuple[list[str], list[pl.Expr]]:
        """The fields with literals, and one multi-literal search per field (``f<i>``)."""
        found = self._cache.get("searches")
        if found is None:
            fields = [name for name in self.literals if name != KEYWORDS]
            queries = [
                pl.col(lower_name(name))
                .str.extract_many(self.literals[name], overlapping=True)
                .alias(f"f{i}")
                for i, name in enumerate(fields)
            ]
            found = self._cache["searches"] = (fields, queries)
        return found  # type: ignore[return-value]

    def keyword_search(self, column: str) -> pl.Expr:
        """Whether ``column`` holds a keyword literal (ASCII case ignored)."""
        key = ("keyword", column)
        found = self._cache.get(key)
        if found is None:
            unsure = [*self.literals.get(KEYWORDS, []), *FOLDS_TO_ASCII]
            found = self._cache[key] = (
                pl.col(column).str.contains_any(unsure, ascii_case_insensitive=True)
                .fill_null(False)
            )
        return found  # type: ignore[return-value]

    def id_map(self, name: str) -> tuple[pl.Series, pl.Series]:
        """A field's literals and their atom ids, as the two sides of a replacement."""
        key = ("ids", name)
        found = self._cache.get(key)
        if found is None:
            ids = self.field_atoms[name]
            found = self._cache[key] = (
                pl.Series(list(ids), dtype=pl.String),
                pl.Series(list(ids.values()), dtype=pl.UInt32),
            )
        return found  # type: ignore[return-value]

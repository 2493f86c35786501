"""The normalization mapping: which original fields (and small operations on them) give
each canonical ECS field, per dataset — read from ``data/ecs.yml`` and user files."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import polars as pl
import yaml

from watchkeeper.errors import MappingError, UsageError
from watchkeeper.events.model import stringify

IP_PATTERN = r"^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*(?:%[0-9A-Za-z]+)?)$"
"""An IPv4 or IPv6 address (shape only), for the ``ip`` modifier."""
_URL_HOST = r"^[A-Za-z][A-Za-z0-9+.\-]*://(?:[^@/?#]*@)?(\[[^\]/]*\]|[^:/?#]+)"
_BASENAME = r"([^\\/]+)$"
_OPERATIONS = frozenset(
    {"basename", "after", "before", "pair", "host", "number", "map", "match", "extract",
     "present"}
)  # fmt: skip
_ORIGINS = ("from", "template", "value")
_MODIFIERS = frozenset({"lower", "ip"})
_TEMPLATE_NAME = re.compile(r"\{([^{}]+)\}")
_KEY = re.compile(r"[A-Za-z0-9_]+")


def _regex(pattern: Any, where: str, *, groups: bool = False) -> str:
    """``pattern`` if the Polars (Rust) regex engine accepts it (with a group when ``groups``)."""
    if not isinstance(pattern, str):
        raise MappingError("a regular expression must be text", location=where)
    try:
        found = pl.select(pl.lit("", dtype=pl.String).str.extract_groups(pattern)).to_series()
    except pl.exceptions.ComputeError as error:
        raise MappingError(f"bad regular expression {pattern!r}: {error}", location=where) from None
    if groups and not found.struct.fields:
        raise MappingError(f"{pattern!r} needs a group to extract", location=where)
    return pattern


@dataclass(frozen=True, slots=True)
class Source:
    """One way to read a canonical value: a column (or template, or constant) and an operation."""

    columns: tuple[str, ...]
    """The columns read; the source is skipped for a batch that lacks one of them."""
    origin: str
    """``from``, ``template`` or ``value``."""
    text: str
    """The column name, the template (with ``{}`` placeholders) or the constant."""
    operation: str | None = None
    argument: Any = None
    lower: bool = False
    ip: bool = False

    @classmethod
    def parse(cls, item: Any, where: str) -> Source:
        """A source from its YAML form: a column name, or a mapping (see ``data/ecs.yml``)."""
        if isinstance(item, str):
            return cls((item,), "from", item)
        if not isinstance(item, dict):
            raise MappingError("a source is a column name or a mapping", location=where)
        unknown = set(item) - _OPERATIONS - _MODIFIERS - set(_ORIGINS)
        if unknown:
            raise MappingError(f"unknown keys {sorted(unknown)}", location=where)
        origins = [key for key in _ORIGINS if key in item]
        operations = [key for key in item if key in _OPERATIONS]
        if len(origins) != 1 or len(operations) > 1:
            raise MappingError(
                "a source needs one of from/template/value and at most one operation",
                location=where,
            )
        origin, text = origins[0], stringify(item[origins[0]])
        if not text or isinstance(item[origin], dict | list):
            raise MappingError(f"{origin}: text is required", location=where)
        columns: tuple[str, ...] = (text,) if origin == "from" else ()
        if origin == "template":
            columns = tuple(_TEMPLATE_NAME.findall(text))
            text = _TEMPLATE_NAME.sub("{}", text)
            if not columns or "{" in text.replace("{}", "") or "}" in text.replace("{}", ""):
                raise MappingError(
                    "a template names columns in braces, and holds no other braces", location=where
                )
        operation = operations[0] if operations else None
        if operation is not None and origin != "from":
            raise MappingError(f"{operation} needs a column (from:)", location=where)
        argument = cls._argument(operation, item.get(operation), where)
        if any(not isinstance(item.get(key, False), bool) for key in _MODIFIERS):
            raise MappingError("lower and ip are true or false", location=where)
        return cls(
            columns,
            origin,
            text,
            operation,
            argument,
            bool(item.get("lower")),
            bool(item.get("ip")),
        )

    @staticmethod
    def _argument(operation: str | None, value: Any, where: str) -> Any:
        if operation in ("map", "match"):
            if not isinstance(value, dict) or not value:
                raise MappingError(f"{operation}: a table is required", location=where)
            table = {stringify(key): stringify(result) for key, result in value.items()}
            if operation == "match":
                return tuple((_regex(key, where), result) for key, result in table.items())
            return table
        if operation in ("after", "before", "present") and not stringify(value):
            raise MappingError(f"{operation}: text is required", location=where)
        if operation == "pair" and not (isinstance(value, str) and _KEY.fullmatch(value)):
            raise MappingError("pair: a key of letters, digits and _ is required", location=where)
        if operation == "extract":
            return _regex(value, where, groups=True)
        return stringify(value)

    def expression(self, absent: Sequence[str]) -> pl.Expr:
        """The value of this source for every row, null where it gives none."""
        if self.origin == "value":
            return pl.lit(self.text, dtype=pl.String)
        if self.origin == "template":
            return pl.format(self.text, *[_read(c, absent) for c in self.columns])
        column = _read(self.text, absent)
        value = self._operate(column)
        if self.operation not in (None, "map", "present", "number"):
            value = _present(value, absent)
        if self.lower:
            value = value.str.to_lowercase()
        if self.ip:
            value = pl.when(value.str.contains(IP_PATTERN)).then(value)
        return value

    def _operate(self, column: pl.Expr) -> pl.Expr:
        operation, argument = self.operation, self.argument
        if operation is None:
            return column
        if operation == "basename":
            return column.str.extract(_BASENAME, 1)
        if operation == "after":
            return column.str.split(argument).list.last()
        if operation == "before":
            first = column.str.split_exact(argument, 1).struct.field("field_0")
            return pl.when(column.str.contains(argument, literal=True)).then(first)
        if operation == "pair":
            return column.str.extract(rf"(?i)(?:^|,)\s*{argument}=([^,]*)", 1)
        if operation == "host":
            return column.str.extract(_URL_HOST, 1)
        if operation == "number":
            hexadecimal = column.str.slice(2).str.to_integer(base=16, strict=False)
            return (
                pl.when(column.str.starts_with("0x"))
                .then(hexadecimal.cast(pl.String))
                .otherwise(column)
            )
        if operation == "map":
            return column.replace_strict(argument, default=None, return_dtype=pl.String)
        if operation == "extract":
            return column.str.extract(argument, 1)
        if operation == "present":
            return pl.when(column.is_not_null()).then(pl.lit(argument, dtype=pl.String))
        value = pl.lit(None, dtype=pl.String)  # match: the first pattern found wins
        for pattern, result in reversed(argument):
            found = column.str.contains(pattern)
            value = pl.when(found).then(pl.lit(result, dtype=pl.String)).otherwise(value)
        return value


def _read(column: str, absent: Sequence[str]) -> pl.Expr:
    """A source column as text, null where it holds an ``absent`` placeholder."""
    return _present(pl.col(column).cast(pl.String), absent)


def _present(value: pl.Expr, absent: Sequence[str]) -> pl.Expr:
    """``value``, null where it is one of the ``absent`` placeholders."""
    return pl.when(~value.is_in(absent)).then(value) if absent else value


@dataclass(frozen=True, slots=True)
class Entry:
    """Sources of one canonical field for the datasets that match ``patterns``."""

    patterns: tuple[str, ...]
    sources: tuple[Source, ...]

    def matches(self, dataset: str) -> bool:
        """Whether this entry applies to events of ``dataset``."""
        return any(
            pattern == "*"
            or dataset == pattern
            or (pattern.endswith(".*") and (dataset + ".").startswith(pattern[:-1]))
            for pattern in self.patterns
        )


@dataclass(frozen=True, slots=True)
class FieldMapping:
    """A parsed mapping: canonical fields in order, their entries, and the absent values."""

    fields: dict[str, tuple[Entry, ...]]
    absent: tuple[str, ...]

    @classmethod
    def parse(cls, document: Any, location: str) -> FieldMapping:
        """Check and read a mapping document (the YAML of ``data/ecs.yml``)."""
        if not isinstance(document, dict) or not isinstance(document.get("fields"), dict):
            raise MappingError("a mapping is a document with a `fields` table", location=location)
        unknown = set(document) - {"fields", "absent"}
        if unknown:
            raise MappingError(f"unknown keys {sorted(unknown)}", location=location)
        absent = document.get("absent", [])
        if not isinstance(absent, list) or not all(isinstance(a, str) for a in absent):
            raise MappingError("absent: a list of texts is required", location=location)
        fields: dict[str, tuple[Entry, ...]] = {}
        for name, table in document["fields"].items():
            if not isinstance(table, dict) or not table:
                raise MappingError(f"{name}: a table of datasets is required", location=location)
            entries = []
            for patterns, sources in table.items():
                where = f"{location}: {name}: {patterns}"
                if not isinstance(sources, list) or not sources:
                    raise MappingError("a list of sources is required", location=where)
                parsed = tuple(Source.parse(item, where) for item in sources)
                entries.append(Entry(tuple(str(patterns).split()), parsed))
            fields[str(name)] = tuple(entries)
        return cls(fields, tuple(absent))

    def extended(self, other: FieldMapping) -> FieldMapping:
        """This mapping with ``other``'s entries tried first, and its new fields appended."""
        fields = {name: other.fields.get(name, ()) + own for name, own in self.fields.items()}
        fields.update({name: e for name, e in other.fields.items() if name not in fields})
        absent = self.absent + tuple(a for a in other.absent if a not in self.absent)
        return FieldMapping(fields, absent)


def load_mapping(path: str | os.PathLike[str]) -> FieldMapping:
    """Read a mapping file; UsageError when it cannot be read, MappingError when it is wrong."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read the field mapping {os.fspath(path)}: {error}") from None
    return _parse_text(text, os.fspath(path))


def default_mapping() -> FieldMapping:
    """The built-in mapping, ``data/ecs.yml``."""
    text = resources.files("watchkeeper.events").joinpath("data/ecs.yml").read_text("utf-8")
    return _parse_text(text, "ecs.yml")


def _parse_text(text: str, location: str) -> FieldMapping:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise MappingError(f"not YAML: {error}", location=location) from None
    return FieldMapping.parse(document, location)


def canonical_fields() -> list[str]:
    """The canonical (ECS) fields the built-in mapping can add, in display order."""
    return list(default_mapping().fields)


def derivation_levels(mapping: FieldMapping, location: str) -> list[list[str]]:
    """The fields in the order they can be computed: a field after those its sources name."""
    depth: dict[str, int] = {}

    def level(name: str, path: tuple[str, ...]) -> int:
        if name in path:
            cycle = " -> ".join((*path, name))
            raise MappingError(f"fields derived from each other: {cycle}", location=location)
        if name not in depth:
            needs = {c for entry in mapping.fields[name] for s in entry.sources for c in s.columns}
            below = [level(n, (*path, name)) for n in needs if n in mapping.fields and n != name]
            depth[name] = 1 + max(below, default=-1)
        return depth[name]

    for name in mapping.fields:
        level(name, ())
    levels: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name in mapping.fields:
        levels[depth[name]].append(name)
    return levels

"""Logsource routing: which events a rule's ``logsource`` covers.

The mapping (``data/logsources.yml``, overridable with a file of the same layout)
turns each product, service and category into a condition over event fields. It
plays the role pySigma processing pipelines play for query backends, but stays a
data file that users can read and extend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from watchkeeper.detection import ir
from watchkeeper.detection.patterns import fold
from watchkeeper.errors import MappingError


@dataclass(frozen=True, slots=True)
class LogSource:
    product: str | None = None
    service: str | None = None
    category: str | None = None

    def __str__(self) -> str:
        parts = [f"{k}={v}" for k, v in self._asdict().items() if v]
        return ", ".join(parts) or "(any)"

    def _asdict(self) -> dict[str, str | None]:
        return {"product": self.product, "service": self.service, "category": self.category}


class LogSourceMapping:
    """Conditions for products, services (per product) and categories (per product)."""

    def __init__(self, document: Mapping[str, Any], origin: str = "mapping") -> None:
        self.origin = origin
        self.products: dict[str, ir.Node] = {}
        self.services: dict[str, dict[str, ir.Node]] = {}
        self.categories: dict[str, dict[str, ir.Node]] = {}
        self.update(document, origin)

    @classmethod
    def default(cls) -> LogSourceMapping:
        text = resources.files("watchkeeper.detection").joinpath("data/logsources.yml").read_text()
        return cls(yaml.safe_load(text), "built-in logsources.yml")

    @classmethod
    def with_overrides(cls, paths: list[Path] | None = None) -> LogSourceMapping:
        mapping = cls.default()
        for path in paths or []:
            try:
                document = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError) as error:
                raise MappingError(f"cannot read mapping: {error}", location=str(path)) from None
            mapping.update(document, str(path))
        return mapping

    def update(self, document: Any, origin: str) -> None:
        """Add or replace entries from a document of the logsources.yml layout."""
        if not isinstance(document, Mapping):
            raise MappingError("a mapping file must be a YAML mapping", location=origin)
        unknown = set(document) - {"version", "products", "services", "categories"}
        if unknown:
            raise MappingError(f"unknown sections: {', '.join(sorted(unknown))}", location=origin)
        for name, spec in _section(document, "products", origin).items():
            self.products[str(name)] = condition(spec, f"{origin}: products.{name}")
        for attribute in ("services", "categories"):
            target: dict[str, dict[str, ir.Node]] = getattr(self, attribute)
            for product, entries in _section(document, attribute, origin).items():
                if not isinstance(entries, Mapping):
                    raise MappingError(f"{attribute}.{product} must be a mapping", location=origin)
                where = target.setdefault(str(product), {})
                for name, spec in entries.items():
                    where[str(name)] = condition(spec, f"{origin}: {attribute}.{product}.{name}")

    def route(self, source: LogSource) -> ir.Node | None:
        """The condition for a rule's logsource, or None when the mapping does not cover it."""
        parts: list[ir.Node] = []
        if source.product:
            product = self.products.get(source.product)
            if product is None:
                return None
            parts.append(product)
        for value, table in ((source.service, self.services), (source.category, self.categories)):
            if not value:
                continue
            products = [source.product] if source.product else sorted(table)
            options = [table[p][value] for p in products if value in table.get(p, {})]
            if not options:
                return None
            parts.append(options[0] if len(options) == 1 else ir.Or(tuple(options)))
        return ir.simplify(ir.And(tuple(parts))) if parts else ir.Const(True)


def _section(document: Mapping[str, Any], name: str, origin: str) -> Mapping[str, Any]:
    section = document.get(name) or {}
    if not isinstance(section, Mapping):
        raise MappingError(f"section {name!r} must be a mapping", location=origin)
    return section


def condition(spec: Any, where: str) -> ir.Node:
    """Parse a mapping condition: a mapping (AND) or a list of mappings (OR)."""
    if isinstance(spec, list):
        if not spec:
            raise MappingError("an empty list of conditions matches nothing", location=where)
        return ir.simplify(ir.Or(tuple(condition(item, where) for item in spec)))
    if not isinstance(spec, Mapping) or not spec:
        raise MappingError("a condition must be a non-empty mapping of fields", location=where)
    tests: list[ir.Node] = []
    for key, value in spec.items():
        field, _, modifier = str(key).partition("|")
        if modifier not in ("", "startswith"):
            raise MappingError(f"unknown modifier {modifier!r} (use startswith)", location=where)
        kind = ir.StrKind.PREFIX if modifier else ir.StrKind.EQ
        values = value if isinstance(value, list) else [value]
        if not values or any(isinstance(v, Mapping | list) or v is None for v in values):
            raise MappingError(f"field {field!r} needs scalar values", location=where)
        alternatives = tuple(
            ir.FieldTest(field, ir.StrMatch(kind, fold(str(v)))) for v in values
        )
        tests.append(ir.simplify(ir.Or(alternatives)))
    return ir.simplify(ir.And(tuple(tests)))

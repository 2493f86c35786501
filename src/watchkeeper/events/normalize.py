"""Normalization: canonical ECS fields added beside the original fields of each event.

What comes from where is data, not code: ``data/ecs.yml`` maps each canonical field,
per dataset, to the original fields (and small operations on them) it is taken from;
a user mapping file in the same format extends it. A :class:`Normalizer` turns that
table into Polars expressions once per batch, so no Python runs per event. A value
the event already has under a canonical name (an ECS document's ``host.name``) is
never replaced; every canonical column is text (``pl.String``), as originals are.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import polars as pl

from watchkeeper.events.mapping import (
    IP_PATTERN,
    Entry,
    FieldMapping,
    Source,
    canonical_fields,
    default_mapping,
    derivation_levels,
    load_mapping,
)
from watchkeeper.events.model import DATASET

__all__ = [
    "IP_PATTERN",
    "Entry",
    "FieldMapping",
    "Normalizer",
    "Source",
    "canonical_fields",
    "default_mapping",
    "load_mapping",
]


class Normalizer:
    """Adds canonical ECS columns to batches, by the built-in mapping and an optional user one.

    Built once (it reads and checks the mapping), then :meth:`apply` to every batch.
    """

    def __init__(self, user_mapping: str | os.PathLike[str] | None = None) -> None:
        mapping, location = default_mapping(), "ecs.yml"
        if user_mapping is not None:
            location = os.fspath(user_mapping)
            mapping = mapping.extended(load_mapping(user_mapping))
        self.mapping = mapping
        self._levels = derivation_levels(mapping, location)

    @property
    def fields(self) -> list[str]:
        """The canonical fields this normalizer can add (user mapping included)."""
        return list(self.mapping.fields)

    def apply(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with the canonical columns its events have sources for."""
        datasets: list[str | None] = []
        if DATASET in frame.columns:
            datasets = frame.get_column(DATASET).unique().to_list()
        for level in self._levels:
            schema = frame.schema
            columns = [self._column(name, schema, datasets) for name in level]
            frame = frame.with_columns([column for column in columns if column is not None])
        return frame

    def _column(
        self, name: str, schema: Mapping[str, pl.DataType], datasets: list[str | None]
    ) -> pl.Expr | None:
        """The expression of one canonical column, or None when nothing would change."""
        own = name in schema and schema[name] != pl.Null
        if own and schema[name] != pl.String:
            return None  # a column of another type is the event's own, left as it is
        candidates: list[pl.Expr] = [pl.col(name)] if own else []
        for entry in self.mapping.fields[name]:
            sources = [s for s in entry.sources if all(c in schema for c in s.columns)]
            if not sources:
                continue
            value = pl.coalesce([s.expression(self.mapping.absent) for s in sources])
            if "*" not in entry.patterns:
                matching = [d for d in datasets if d is not None and entry.matches(d)]
                if not matching:
                    continue
                if len(matching) < len(datasets):
                    value = pl.when(pl.col(DATASET).is_in(matching)).then(value)
            candidates.append(value)
        if len(candidates) <= own:
            return None
        return pl.coalesce(candidates).cast(pl.String).alias(name)

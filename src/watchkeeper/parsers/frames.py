"""Building batches: original-field columns into a frame, and the reserved columns.

See :mod:`watchkeeper.events.model` for what the columns hold.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from watchkeeper.events.model import LINE, OFFSET, ORIGINAL, SOURCE

Ints = Sequence[int | None] | pl.Series
Texts = Sequence[str] | pl.Series


def frame_of(columns: list[pl.Series], height: int) -> pl.DataFrame:
    """A frame of ``columns``, or of ``height`` empty rows when there is no column."""
    if not columns:
        return pl.DataFrame(height=height)
    return pl.DataFrame(columns)


def constant(name: str, value: str, height: int) -> pl.Series:
    """A text column holding ``value`` ``height`` times."""
    return pl.repeat(value, height, dtype=pl.String, eager=True).alias(name)


def location_columns(
    source: str, offsets: Ints, lines: Ints | None, originals: Texts | None = None
) -> list[pl.Series]:
    """Where each event was read (``SOURCE``, ``OFFSET``, ``LINE``: null when ``lines`` is
    None) and, when ``originals`` are given, its raw record (``ORIGINAL``)."""
    height = len(offsets)
    columns = [
        constant(SOURCE, source, height),
        pl.Series(OFFSET, offsets, dtype=pl.Int64),
        pl.Series(LINE, lines if lines is not None else [None] * height, dtype=pl.Int64),
    ]
    if originals is not None:
        columns.append(pl.Series(ORIGINAL, originals, dtype=pl.String))
    return columns

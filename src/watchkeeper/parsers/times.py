"""Time stamps written as text, read as UTC datetimes (``pl.Datetime("us", "UTC")``).

Text that is no time stamp gives null, never an error. A stamp without a zone is
taken as UTC.
"""

from __future__ import annotations

import polars as pl

TIME_FORMAT_AWARE = "%Y-%m-%dT%H:%M:%S%.f%#z"
TIME_FORMAT_NAIVE = "%Y-%m-%dT%H:%M:%S%.f"


def iso_to_utc(text: pl.Expr) -> pl.Expr:
    """ISO 8601 times (``Z``, ``+01:00``, ``+0100``, or no zone: UTC) as UTC datetimes.

    One parsing pass: a stamp without a zone gets ``+00:00``.
    """
    text = text.str.replace(" ", "T", literal=True)
    zoned = text.str.contains(r"[+-]\d\d:?\d\d$")
    text = pl.when(zoned).then(text).otherwise(text.str.replace(r"[Zz]?$", "+00:00"))
    return text.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%z", strict=False, time_unit="us"
    ).dt.convert_time_zone("UTC")


def epoch_or_iso(text: pl.Expr) -> pl.Expr:
    """UTC times from epoch seconds in decimal (``1700000000.123456``, exact) or ISO 8601."""
    parts = text.str.split_exact(".", 1)
    seconds = parts.struct.field("field_0").cast(pl.Int64, strict=False)
    fraction = parts.struct.field("field_1").fill_null("").str.slice(0, 6).str.pad_end(6, "0")
    micros = seconds * 1_000_000 + fraction.cast(pl.Int64, strict=False)
    epoch = pl.when(text.str.contains(r"^[0-9]+(?:\.[0-9]*)?$")).then(micros)
    return pl.coalesce(epoch.cast(pl.Datetime("us", "UTC")), iso_to_utc(text))


def parse_times(text: pl.Series) -> pl.Series:
    """ISO 8601 text (``Z``, an offset, or none meaning UTC; ``T`` or a space) to UTC µs.

    Unlike :func:`iso_to_utc`, it also reads an offset of hours alone (``+01``).
    """
    if text.dtype != pl.String:
        text = text.cast(pl.String)
    text = text.str.replace(" ", "T", literal=True)
    parsed = text.str.strptime(pl.Datetime("us", "UTC"), TIME_FORMAT_AWARE, strict=False)
    if parsed.null_count() > text.null_count():
        naive = text.str.strptime(pl.Datetime("us"), TIME_FORMAT_NAIVE, strict=False)
        parsed = parsed.fill_null(naive.dt.replace_time_zone("UTC"))
    return parsed

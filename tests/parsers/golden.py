"""Golden-file checks for parsers: ``tests/data/<format>/<case>`` beside ``<case>.expected.jsonl``.

The expected file holds one JSON object per parsed event (null fields left out,
times in ISO 8601) followed by one ``{"skipped": {...}}`` object per skip. Set
``WATCHKEEPER_REGEN_GOLDEN=1`` to write the expected files anew, then review the diff.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from watchkeeper.parsers.base import ParsedChunk

DATA = Path(__file__).resolve().parent.parent / "data"


def frame_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for row in frame.iter_rows(named=True):
        clean: dict[str, Any] = {}
        for key in sorted(row):
            value = row[key]
            if value is None:
                continue
            if isinstance(value, dt.datetime):
                value = value.isoformat()
            clean[key] = value
        rows.append(clean)
    return rows


def chunk_lines(chunks: list[ParsedChunk]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for chunk in chunks:
        lines.extend(frame_rows(chunk.frame))
    for chunk in chunks:
        for skip in chunk.skipped:
            where = {"source": skip.source, "location": skip.location, "reason": skip.reason}
            lines.append({"skipped": where})
    return lines


def check_golden(case: Path, chunks: list[ParsedChunk]) -> None:
    """Compare parsed ``chunks`` of ``case`` with its expected file (or write it anew)."""
    expected_path = case.with_name(case.name + ".expected.jsonl")
    actual = chunk_lines(chunks)
    if os.environ.get("WATCHKEEPER_REGEN_GOLDEN") == "1":
        expected_path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in actual))
    assert expected_path.exists(), f"no golden file {expected_path}; regenerate and review it"
    expected = [orjson.loads(line) for line in expected_path.read_bytes().splitlines() if line]
    assert actual == expected

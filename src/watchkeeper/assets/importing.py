"""Filling the asset inventory from a CSV file: one asset a row, every bad row reported
with its line and reason, the good ones imported."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.assets.service import AssetService
from watchkeeper.errors import InputError, WatchkeeperError

COLUMNS = ("name", "ip", "kind", "criticality", "owner", "team", "exposure", "environment",
           "tags")
MAX_ROWS = 100_000


@dataclass
class AssetImport:
    imported: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    """``{"line": n, "reason": …}`` for each row left out."""


def import_csv(assets: AssetService, actor: str, data: bytes) -> AssetImport:
    """Rows of ``name`` (required) and any of ``ip``, ``kind``, ``criticality``, ``owner``,
    ``team``, ``exposure``, ``environment``, ``tags``; an existing asset of that name is
    updated."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text: {error}") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "name" not in header:
        raise InputError("the CSV needs a header row with a 'name' column "
                         f"(columns: {', '.join(COLUMNS)})", location="line 1")
    unknown = sorted(set(header) - set(COLUMNS))
    if unknown:
        raise InputError(f"unknown column {', '.join(unknown)} (columns: {', '.join(COLUMNS)})",
                         location="line 1")
    done = AssetImport()
    for number, raw in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            done.skipped.append({"line": number, "reason": f"more than {MAX_ROWS} rows"})
            break
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        values = {k: v or None for k, v in row.items()}
        try:
            assets.put(actor, row.get("name", ""), values.get("criticality") or "medium",
                       values.get("ip"), values.get("owner"), values.get("tags"),
                       kind=values.get("kind") or "host", team=values.get("team"),
                       exposure=values.get("exposure"), environment=values.get("environment"))
        except WatchkeeperError as error:
            done.skipped.append({"line": number, "reason": error.message})
            continue
        done.imported += 1
    return done

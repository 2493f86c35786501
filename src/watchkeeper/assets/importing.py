"""Filling the asset inventory: from a CSV file (one asset a row, every bad row reported
with its line and reason, the good ones imported), and from the hosts the events show."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from watchkeeper.assets.service import AssetService
from watchkeeper.errors import InputError, WatchkeeperError
from watchkeeper.store.base import EventStore

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


MAX_PROPOSED = 500


def proposed_hosts(store: EventStore, assets: AssetService, days: int) -> list[dict[str, Any]]:
    """Host names in the stored events of the last ``days`` that no asset has (by name or
    by its short name), with how many events each has and when it was last seen."""
    if "host.name" not in store.columns():
        return []
    since = datetime.now(UTC) - timedelta(days=days)
    frame = store.query(
        'SELECT lower("host.name") AS name, count(*) AS events, max("@timestamp") AS last_seen '
        'FROM events WHERE "host.name" IS NOT NULL AND "@timestamp" >= ? '
        "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?", [since, MAX_PROPOSED * 4])
    known = set()
    for asset in assets.list():
        known.add(asset["name"])
        known.add(asset["name"].split(".")[0])
    found = []
    for row in frame.to_dicts():
        name = str(row["name"])
        if name in known or name.split(".")[0] in known:
            continue
        found.append({"name": name, "events": int(row["events"]),
                      "last_seen": row["last_seen"]})
    return found[:MAX_PROPOSED]

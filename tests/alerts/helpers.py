"""Rules and match frames for alert tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from tests.detection.harness import rule_from_yaml
from watchkeeper.detection.rules import Rule

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


RULE_IDS = {
    "r-1": "11111111-1111-4111-8111-111111111111",
    "r-2": "22222222-2222-4222-8222-222222222222",
}


def make_rule(name: str = "r-1", level: str = "high") -> Rule:
    rule_id = RULE_IDS[name]
    text = f"""
title: Test rule {name}
id: {rule_id}
level: {level}
tags: [attack.execution, attack.t1059]
logsource: {{product: windows, category: process_creation}}
detection:
    selection: {{Image|endswith: '\\\\cmd.exe'}}
    condition: selection
"""
    return rule_from_yaml(text)


def matches(rows: list[dict[str, object]]) -> pl.DataFrame:
    """A match frame: each row names ``rule`` (index), ``id`` (event id), ``minutes``
    after T0, and optional ``host``, ``user``, ``criticality``."""
    return pl.DataFrame(
        {
            "rule": [r.get("rule", 0) for r in rows],
            "event.id": [str(r["id"]) for r in rows],
            "@timestamp": [T0 + timedelta(minutes=float(str(r.get("minutes", 0)))) for r in rows],
            "event.ingested": [T0 + timedelta(minutes=float(str(r.get("minutes", 0))))
                               for r in rows],
            "host.name": [r.get("host") for r in rows],
            "user.name": [r.get("user") for r in rows],
            "asset.criticality": [r.get("criticality") for r in rows],
        },
        schema={
            "rule": pl.UInt32, "event.id": pl.String, "@timestamp": pl.Datetime("us", "UTC"),
            "event.ingested": pl.Datetime("us", "UTC"), "host.name": pl.String,
            "user.name": pl.String, "asset.criticality": pl.String,
        },
    )

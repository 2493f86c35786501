"""The risk score of an alert: an open formula, documented in ``docs/alerts.md``.

    score = min(100, round(LEVEL[level] × CRITICALITY[asset] × (1 + confidence / 200)))

``confidence`` is the matched threat-intel indicator's confidence (0–100), when
there is one: a certain indicator raises the score by half.
"""

from __future__ import annotations

LEVEL = {"informational": 5, "low": 20, "medium": 45, "high": 70, "critical": 90}
CRITICALITY = {"low": 0.75, "medium": 1.0, "high": 1.25, "critical": 1.5}
UNKNOWN_CRITICALITY = 1.0
"""An asset missing from the asset table counts as medium."""


def risk_score(level: str, criticality: str | None = None, confidence: int | None = None) -> int:
    base = LEVEL.get(level, LEVEL["informational"])
    weight = CRITICALITY.get(criticality or "", UNKNOWN_CRITICALITY)
    boost = 1 + max(0, min(100, confidence or 0)) / 200
    return min(100, round(base * weight * boost))

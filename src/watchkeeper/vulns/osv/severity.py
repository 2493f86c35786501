"""A record's severity, from the best evidence it carries.

In order: a CVSS v3 vector (its base score computed here); a CVSS v4 vector, with the
numeric score given in the record's ``database_specific`` (``cvss_score`` or
``cvss_v4_score``) when there is one, otherwise its CVSS v4.0 base score computed here
(:func:`watchkeeper.vulns.cvss.base_score_v4`, FIRST's macrovector method); a qualitative
rating in ``database_specific.severity`` (GitHub's ``LOW``/``MODERATE``/``HIGH``/
``CRITICAL``) or an ``Ubuntu`` severity entry; otherwise unknown. A malformed vector is
skipped as if it were absent.
"""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.vulns.cvss import (
    InvalidVector,
    base_score_v3,
    base_score_v4,
    severity_of_score,
)
from watchkeeper.vulns.model import Severity
from watchkeeper.vulns.osv.model import Record

_LABELS = {
    "negligible": Severity.INFO,
    "info": Severity.INFO,
    "informational": Severity.INFO,
    "none": Severity.INFO,
    "low": Severity.LOW,
    "moderate": Severity.MEDIUM,
    "medium": Severity.MEDIUM,
    "important": Severity.HIGH,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}


@dataclass(frozen=True, slots=True)
class Rating:
    severity: Severity
    vector: str | None = None
    score: float | None = None


def rate(record: Record) -> Rating:
    """The severity of ``record`` (see the module docstring for the order of evidence)."""
    v4: str | None = None
    v4_score = 0.0
    for entry in record.severity:
        if entry.type == "CVSS_V3":
            try:
                score = base_score_v3(entry.score)
            except InvalidVector:
                continue
            return Rating(severity_of_score(score), entry.score, score)
        if entry.type == "CVSS_V4" and v4 is None:
            try:
                v4_score = base_score_v4(entry.score)
            except InvalidVector:
                continue
            v4 = entry.score
    if v4 is not None:
        given = _given_score(record)
        score = given if given is not None else v4_score
        return Rating(severity_of_score(score), v4, score)
    label = record.database_specific.get("severity")
    for entry in record.severity:
        if entry.type == "Ubuntu":
            label = label or entry.score
    if isinstance(label, str) and label.lower() in _LABELS:
        return Rating(_LABELS[label.lower()])
    return Rating(Severity.UNKNOWN)


def _given_score(record: Record) -> float | None:
    for name in ("cvss_v4_score", "cvss_score"):
        value = record.database_specific.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 10:
            return float(value)
    return None

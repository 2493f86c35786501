"""CVSS base scores and what they mean for a finding's severity.

The CVSS v3.x base score is computed from the vector with the formulas of FIRST's
specification (v3.1 rounding for ``CVSS:3.1``, v3.0 rounding for ``CVSS:3.0``); only the
base metrics count, temporal and environmental ones are read and ignored. CVSS v4 scores
need FIRST's lookup tables, which are not reproduced here: a v4 vector is checked but
its score must come from elsewhere (see :func:`watchkeeper.vulns.osv.severity`).
"""

from __future__ import annotations

import math

from watchkeeper.errors import InputError
from watchkeeper.vulns.model import Severity

_V3_METRICS: dict[str, dict[str, float]] = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "PR": {"N": 0.85, "L": 0.62, "H": 0.27},
    "UI": {"N": 0.85, "R": 0.62},
    "S": {"U": 0.0, "C": 0.0},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
_PR_CHANGED = {"N": 0.85, "L": 0.68, "H": 0.5}
_V4_BASE = ("AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA")


class InvalidVector(InputError):
    """A CVSS vector that is not well formed."""


def parse_vector(vector: str) -> tuple[str, dict[str, str]]:
    """``CVSS:3.1/AV:N/…`` → (``3.1``, {metric: value}); :class:`InvalidVector` if the
    prefix is missing, a part is not ``NAME:VALUE`` or a metric is repeated."""
    head, _, rest = vector.strip().partition("/")
    if not head.startswith("CVSS:") or not rest:
        raise InvalidVector(f"not a CVSS vector: {vector!r}")
    metrics: dict[str, str] = {}
    for part in rest.split("/"):
        name, sep, value = part.partition(":")
        if not sep or not name or not value or name in metrics:
            raise InvalidVector(f"bad metric {part!r} in {vector!r}")
        metrics[name] = value
    return head.removeprefix("CVSS:"), metrics


def base_score_v3(vector: str) -> float:
    """The CVSS v3.0 or v3.1 base score of ``vector``."""
    version, metrics = parse_vector(vector)
    if version not in ("3.0", "3.1"):
        raise InvalidVector(f"not a CVSS v3 vector: {vector!r}")
    values: dict[str, float] = {}
    for name, table in _V3_METRICS.items():
        value = metrics.get(name)
        if value not in table:
            raise InvalidVector(f"missing or bad base metric {name} in {vector!r}")
        values[name] = table[value]
    changed = metrics["S"] == "C"
    if changed:
        values["PR"] = _PR_CHANGED[metrics["PR"]]
    iss = 1 - (1 - values["C"]) * (1 - values["I"]) * (1 - values["A"])
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    exploitability = 8.22 * values["AV"] * values["AC"] * values["PR"] * values["UI"]
    if impact <= 0:
        return 0.0
    total = impact + exploitability
    if changed:
        total *= 1.08
    roundup = _roundup_31 if version == "3.1" else _roundup_30
    return roundup(min(total, 10.0))


def _roundup_31(value: float) -> float:
    """v3.1's round-up to one decimal, defined on integers to avoid float artefacts."""
    scaled = round(value * 100_000)
    if scaled % 10_000 == 0:
        return scaled / 100_000.0
    return (math.floor(scaled / 10_000) + 1) / 10.0


def _roundup_30(value: float) -> float:
    return math.ceil(value * 10) / 10.0


def check_vector_v4(vector: str) -> dict[str, str]:
    """The metrics of a CVSS v4.0 vector, checking that every base metric is there."""
    version, metrics = parse_vector(vector)
    if version != "4.0" or any(name not in metrics for name in _V4_BASE):
        raise InvalidVector(f"not a CVSS v4.0 base vector: {vector!r}")
    return metrics


def severity_of_score(score: float) -> Severity:
    """FIRST's qualitative rating: 0 none (info), <4 low, <7 medium, <9 high, else critical."""
    if score <= 0:
        return Severity.INFO
    if score < 4:
        return Severity.LOW
    if score < 7:
        return Severity.MEDIUM
    if score < 9:
        return Severity.HIGH
    return Severity.CRITICAL

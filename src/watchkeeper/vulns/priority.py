"""Which fix comes first, and why: an open risk formula and an SSVC decision.

Every input of a finding's score is kept beside it, so that "why is this first?" has an
answer a person can check:

    risk = 100 × severity × threat × asset × exposure        (each factor in 0..1)

* severity — the CVSS base score / 10 (0.5 when no score is known);
* threat — 1.0 when CISA lists the flaw as exploited (KEV), else 0.3 + 0.7 × the EPSS
  percentile (0.3 + 0.7 × 0.5 when EPSS has no figure): a flaw with no known exploitation
  keeps at least 30% of its weight, one exploited in the wild all of it;
* asset — the business criticality of the asset: critical 1.0, high 0.8, medium 0.5,
  low 0.3 (0.5 when unknown);
* exposure — internet-facing 1.0, internal 0.6 (0.8 when unknown).

The SSVC decision (Track, Track*, Attend, Act) follows the decision points of CISA's
Stakeholder-Specific Vulnerability Categorization — exploitation, automatable, technical
impact, mission and well-being — through the table in :func:`ssvc`, which
docs/vulns-priority.md prints in full.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import orjson

from watchkeeper.errors import InputError

ASSET = {"critical": 1.0, "high": 0.8, "medium": 0.5, "low": 0.3}
EXPOSURE = {"internet": 1.0, "internal": 0.6}
UNKNOWN_SEVERITY = 0.5
UNKNOWN_ASSET = 0.5
UNKNOWN_EXPOSURE = 0.8
UNKNOWN_PERCENTILE = 0.5
Decision = Literal["Track", "Track*", "Attend", "Act"]
DUE = {"Act": timedelta(days=3), "Attend": timedelta(days=14), "Track*": timedelta(days=30),
       "Track": timedelta(days=90)}
"""How long a fix may take, by decision (the SLA a finding is tracked against)."""


@dataclass(frozen=True)
class Epss:
    probability: float
    percentile: float


@dataclass(frozen=True)
class Kev:
    cve: str
    ransomware: bool
    date_added: str
    due_date: str | None = None


@dataclass(frozen=True)
class Context:
    """What is known of a finding beyond the scanner's report."""

    cvss_score: float | None = None
    cvss_vector: str | None = None
    epss: Epss | None = None
    kev: Kev | None = None
    asset_criticality: str | None = None
    exposure: str | None = None
    """``internet`` or ``internal``."""


@dataclass(frozen=True)
class Priority:
    risk: float
    decision: Decision
    due_in: timedelta
    inputs: dict[str, Any] = field(default_factory=dict)
    """Every input and factor of the score, for "why is this first?"."""


def prioritize(context: Context) -> Priority:
    severity = (context.cvss_score / 10) if context.cvss_score is not None \
        else UNKNOWN_SEVERITY
    if context.kev is not None:
        threat = 1.0
    else:
        percentile = context.epss.percentile if context.epss else UNKNOWN_PERCENTILE
        threat = 0.3 + 0.7 * percentile
    asset = ASSET.get(context.asset_criticality or "", UNKNOWN_ASSET)
    exposure = EXPOSURE.get(context.exposure or "", UNKNOWN_EXPOSURE)
    risk = round(100 * severity * threat * asset * exposure, 1)
    decision = ssvc(
        exploitation=_exploitation(context),
        automatable=_automatable(context.cvss_vector, context.exposure),
        technical_impact=_technical_impact(context.cvss_vector, context.cvss_score),
        mission=_mission(context.asset_criticality))
    return Priority(risk, decision, DUE[decision], {
        "cvss_score": context.cvss_score, "epss": None if context.epss is None else {
            "probability": context.epss.probability, "percentile": context.epss.percentile},
        "kev": context.kev is not None,
        "kev_ransomware": bool(context.kev and context.kev.ransomware),
        "asset_criticality": context.asset_criticality, "exposure": context.exposure,
        "factors": {"severity": round(severity, 3), "threat": round(threat, 3),
                    "asset": asset, "exposure": exposure},
        "ssvc": {"exploitation": _exploitation(context),
                 "automatable": _automatable(context.cvss_vector, context.exposure),
                 "technical_impact": _technical_impact(context.cvss_vector,
                                                       context.cvss_score),
                 "mission": _mission(context.asset_criticality)}})


def ssvc(*, exploitation: str, automatable: bool, technical_impact: str,
         mission: str) -> Decision:
    """CISA's decision for its decision points: exploitation (``none``, ``poc``,
    ``active``), automatable, technical impact (``partial``, ``total``), mission and
    well-being (``low``, ``medium``, ``high``) — CISA's published table, as in
    docs/vulns-priority.md."""
    row = _SSVC[(exploitation, automatable, technical_impact == "total")]
    return row[("low", "medium", "high").index(mission)]


_T: Decision = "Track"
_S: Decision = "Track*"
_ATT: Decision = "Attend"
_ACT: Decision = "Act"
_SSVC: dict[tuple[str, bool, bool], tuple[Decision, Decision, Decision]] = {
    # (exploitation, automatable, total impact): decision for low, medium, high mission
    ("none", False, False): (_T, _T, _T),
    ("none", False, True): (_T, _T, _S),
    ("none", True, False): (_T, _T, _ATT),
    ("none", True, True): (_T, _T, _ATT),
    ("poc", False, False): (_T, _T, _S),
    ("poc", False, True): (_T, _S, _ATT),
    ("poc", True, False): (_T, _T, _ATT),
    ("poc", True, True): (_T, _S, _ATT),
    ("active", False, False): (_T, _T, _ATT),
    ("active", False, True): (_T, _ATT, _ACT),
    ("active", True, False): (_ATT, _ATT, _ACT),
    ("active", True, True): (_ATT, _ACT, _ACT),
}


def _exploitation(context: Context) -> str:
    if context.kev is not None:
        return "active"
    if context.epss is not None and context.epss.probability >= 0.1:
        return "poc"
    return "none"


def _metrics(vector: str | None) -> dict[str, str]:
    if not vector:
        return {}
    parts = [p.split(":", 1) for p in vector.split("/") if ":" in p]
    return {k: v for k, v in parts}


def _automatable(vector: str | None, exposure: str | None) -> bool:
    """Reachable over the network with no user and no special conditions."""
    metrics = _metrics(vector)
    if not metrics:
        return exposure == "internet"
    return (metrics.get("AV") == "N" and metrics.get("UI") == "N"
            and metrics.get("AC") == "L" and metrics.get("PR") in ("N", None))


def _technical_impact(vector: str | None, score: float | None) -> str:
    metrics = _metrics(vector)
    if metrics:
        high = [metrics.get(k) == "H" for k in ("C", "I", "A")]
        return "total" if all(high[:2]) or all(high) else "partial"
    return "total" if score is not None and score >= 9.0 else "partial"


def _mission(criticality: str | None) -> str:
    return {"critical": "high", "high": "high", "medium": "medium"}.get(criticality or "",
                                                                         "low")


def read_epss(data: bytes) -> dict[str, Epss]:
    """FIRST's EPSS CSV (``cve,epss,percentile``, after a ``#model_version`` comment)."""
    text = data.decode("utf-8", errors="replace")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    found: dict[str, Epss] = {}
    for number, row in enumerate(csv.DictReader(io.StringIO("\n".join(lines))), start=2):
        try:
            found[row["cve"].strip().upper()] = Epss(float(row["epss"]),
                                                     float(row["percentile"]))
        except (KeyError, ValueError, AttributeError) as error:
            raise InputError(f"not an EPSS row: {error}", location=f"line {number}") from None
    return found


def read_kev(data: bytes) -> dict[str, Kev]:
    """CISA's Known Exploited Vulnerabilities catalog (JSON)."""
    try:
        document = orjson.loads(data)
        rows: Iterable[Mapping[str, Any]] = document["vulnerabilities"]
        return {str(row["cveID"]).upper(): Kev(
            str(row["cveID"]).upper(),
            str(row.get("knownRansomwareCampaignUse", "")).lower() == "known",
            str(row.get("dateAdded", "")), row.get("dueDate"))
            for row in rows}
    except (orjson.JSONDecodeError, KeyError, TypeError) as error:
        raise InputError(f"not a KEV catalog: {error}") from None

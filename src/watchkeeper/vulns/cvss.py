"""CVSS base scores and what they mean for a finding's severity.

The CVSS v3.x base score is computed from the vector with the formulas of FIRST's
specification (v3.1 rounding for ``CVSS:3.1``, v3.0 rounding for ``CVSS:3.0``); only the
base metrics count, temporal and environmental ones are read and ignored.

The CVSS v4.0 base score (CVSS-B) follows section 8 of FIRST's v4.0 specification: the
vector's equivalence classes EQ1–EQ6 make its macrovector, whose score is looked up in
the specification's table (``data/cvss4_macrovectors.json``); the vector's severity
distance from the macrovector's highest severity vector, as a share of the macrovector's
depth, scales the score gap to each next lower macrovector, and the mean of those steps
is taken off the macrovector's score, rounded half up to one decimal. Threat,
environmental and supplemental metrics are checked and ignored: the base score takes
them at their defaults (``E:X`` counts as ``E:A``, ``CR``/``IR``/``AR`` as ``H``, no
modified metric).
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

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
_IMPACT = ("H", "L", "N")
# Every metric a v4.0 vector may carry, with the values the specification allows.
_V4_VALUES: dict[str, tuple[str, ...]] = {
    "AV": ("N", "A", "L", "P"),
    "AC": ("L", "H"),
    "AT": ("N", "P"),
    "PR": ("N", "L", "H"),
    "UI": ("N", "P", "A"),
    "VC": _IMPACT,
    "VI": _IMPACT,
    "VA": _IMPACT,
    "SC": _IMPACT,
    "SI": _IMPACT,
    "SA": _IMPACT,
    "E": ("X", "A", "P", "U"),
    "CR": ("X", "H", "M", "L"),
    "IR": ("X", "H", "M", "L"),
    "AR": ("X", "H", "M", "L"),
    "MAV": ("X", "N", "A", "L", "P"),
    "MAC": ("X", "L", "H"),
    "MAT": ("X", "N", "P"),
    "MPR": ("X", "N", "L", "H"),
    "MUI": ("X", "N", "P", "A"),
    "MVC": ("X", *_IMPACT),
    "MVI": ("X", *_IMPACT),
    "MVA": ("X", *_IMPACT),
    "MSC": ("X", *_IMPACT),
    "MSI": ("X", "S", *_IMPACT),
    "MSA": ("X", "S", *_IMPACT),
    "S": ("X", "N", "P"),
    "AU": ("X", "N", "Y"),
    "R": ("X", "A", "U", "I"),
    "V": ("X", "D", "C"),
    "RE": ("X", "L", "M", "H"),
    "U": ("X", "Clear", "Green", "Amber", "Red"),
}
# The base score takes threat and environmental metrics at their defaults.
_V4_BASE_DEFAULTS = {"E": "A", "CR": "H", "IR": "H", "AR": "H"}
# Severity level of each value within its metric, in steps of 0.1 (0 is the most severe).
_V4_LEVELS: dict[str, dict[str, float]] = {
    "AV": {"N": 0.0, "A": 0.1, "L": 0.2, "P": 0.3},
    "PR": {"N": 0.0, "L": 0.1, "H": 0.2},
    "UI": {"N": 0.0, "P": 0.1, "A": 0.2},
    "AC": {"L": 0.0, "H": 0.1},
    "AT": {"N": 0.0, "P": 0.1},
    "VC": {"H": 0.0, "L": 0.1, "N": 0.2},
    "VI": {"H": 0.0, "L": 0.1, "N": 0.2},
    "VA": {"H": 0.0, "L": 0.1, "N": 0.2},
    "SC": {"H": 0.1, "L": 0.2, "N": 0.3},
    "SI": {"S": 0.0, "H": 0.1, "L": 0.2, "N": 0.3},
    "SA": {"S": 0.0, "H": 0.1, "L": 0.2, "N": 0.3},
    "CR": {"H": 0.0, "M": 0.1, "L": 0.2},
    "IR": {"H": 0.0, "M": 0.1, "L": 0.2},
    "AR": {"H": 0.0, "M": 0.1, "L": 0.2},
    "E": {"A": 0.0, "P": 0.1, "U": 0.2},
}
_V4_STEP = 0.1
_V4_DATA = "data/cvss4_macrovectors.json"


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
    """The metrics of a CVSS v4.0 vector; :class:`InvalidVector`, naming the problem, if
    the version is not 4.0, a base metric is missing, a metric is unknown or a value is not
    one the specification allows for it."""
    version, metrics = parse_vector(vector)
    if version != "4.0":
        raise InvalidVector(f"not a CVSS v4.0 vector (version {version!r}): {vector!r}")
    missing = [name for name in _V4_BASE if name not in metrics]
    if missing:
        raise InvalidVector(f"CVSS v4.0 vector lacks base metric {', '.join(missing)}: {vector!r}")
    for name, value in metrics.items():
        allowed = _V4_VALUES.get(name)
        if allowed is None:
            raise InvalidVector(f"unknown CVSS v4.0 metric {name!r} in {vector!r}")
        if value not in allowed:
            raise InvalidVector(f"bad value {value!r} for CVSS v4.0 metric {name} in {vector!r}")
    return metrics


def base_score_v4(vector: str) -> float:
    """The CVSS v4.0 base score (CVSS-B) of ``vector``, by FIRST's macrovector method."""
    base = check_vector_v4(vector)
    if all(base[name] == "N" for name in ("VC", "VI", "VA", "SC", "SI", "SA")):
        return 0.0
    tables = _v4_tables()
    m = {name: base[name] for name in _V4_BASE} | _V4_BASE_DEFAULTS
    eq1, eq2, eq3, eq4, eq5, eq6 = _equivalence_classes(m)
    macro = (eq1, eq2, eq3, eq4, eq5, eq6)
    score = tables.score(macro)
    if score is None:  # every reachable macrovector is in the table
        raise InvalidVector(f"no CVSS v4.0 macrovector {_key(macro)} for {vector!r}")

    distances = _distances_to_highest(m, tables.highest_for(macro))
    eq3eq6_next: float | None
    if eq3 == 0 and eq6 == 0:
        # two next lower macrovectors: the higher of their scores counts
        candidates = [
            s
            for s in (
                tables.score((eq1, eq2, 0, eq4, eq5, 1)),
                tables.score((eq1, eq2, 1, eq4, eq5, 0)),
            )
            if s is not None
        ]
        eq3eq6_next = max(candidates) if candidates else None
    elif eq3 == 1 and eq6 == 0:
        eq3eq6_next = tables.score((eq1, eq2, eq3, eq4, eq5, eq6 + 1))
    else:
        eq3eq6_next = tables.score((eq1, eq2, eq3 + 1, eq4, eq5, eq6))
    # (next lower macrovector's score, severity distance, depth) per class; EQ5 has no
    # distance within a macrovector (E is a single metric).
    parts: list[tuple[float | None, float, float]] = [
        (
            tables.score((eq1 + 1, eq2, eq3, eq4, eq5, eq6)),
            distances["AV"] + distances["PR"] + distances["UI"],
            tables.depth("eq1", str(eq1)),
        ),
        (
            tables.score((eq1, eq2 + 1, eq3, eq4, eq5, eq6)),
            distances["AC"] + distances["AT"],
            tables.depth("eq2", str(eq2)),
        ),
        (
            eq3eq6_next,
            distances["VC"]
            + distances["VI"]
            + distances["VA"]
            + distances["CR"]
            + distances["IR"]
            + distances["AR"],
            tables.depth("eq3eq6", f"{eq3}{eq6}"),
        ),
        (
            tables.score((eq1, eq2, eq3, eq4 + 1, eq5, eq6)),
            distances["SC"] + distances["SI"] + distances["SA"],
            tables.depth("eq4", str(eq4)),
        ),
        (tables.score((eq1, eq2, eq3, eq4, eq5 + 1, eq6)), 0.0, tables.depth("eq5", str(eq5))),
    ]
    steps = [
        (score - lower) * (distance / (depth * _V4_STEP))
        for lower, distance, depth in parts
        if lower is not None
    ]
    if steps:
        score -= sum(steps) / len(steps)
    return _round_half_up(min(max(score, 0.0), 10.0))


def _equivalence_classes(m: dict[str, str]) -> tuple[int, int, int, int, int, int]:
    """EQ1–EQ6 of the effective metrics ``m`` (specification, section 8.1)."""
    av, pr, ui = m["AV"], m["PR"], m["UI"]
    if av == "N" and pr == "N" and ui == "N":
        eq1 = 0
    elif (av == "N" or pr == "N" or ui == "N") and av != "P":
        eq1 = 1
    else:
        eq1 = 2
    eq2 = 0 if m["AC"] == "L" and m["AT"] == "N" else 1
    if m["VC"] == "H" and m["VI"] == "H":
        eq3 = 0
    elif "H" in (m["VC"], m["VI"], m["VA"]):
        eq3 = 1
    else:
        eq3 = 2
    if m["SI"] == "S" or m["SA"] == "S":
        eq4 = 0
    elif "H" in (m["SC"], m["SI"], m["SA"]):
        eq4 = 1
    else:
        eq4 = 2
    eq5 = {"A": 0, "P": 1, "U": 2}[m["E"]]
    high_requirement = (
        (m["CR"] == "H" and m["VC"] == "H")
        or (m["IR"] == "H" and m["VI"] == "H")
        or (m["AR"] == "H" and m["VA"] == "H")
    )
    eq6 = 0 if high_requirement else 1
    return eq1, eq2, eq3, eq4, eq5, eq6


def _distances_to_highest(m: dict[str, str], highest: list[dict[str, str]]) -> dict[str, float]:
    """Severity distances of ``m`` from the first of the macrovector's highest severity
    vectors that is at least as severe as ``m`` in every metric."""
    for candidate in highest:
        distances = {
            name: levels[m[name]] - levels[candidate[name]] for name, levels in _V4_LEVELS.items()
        }
        if all(distance >= 0 for distance in distances.values()):
            return distances
    raise InvalidVector(f"no highest severity vector above {m!r}")  # pragma: no cover


def _round_half_up(value: float) -> float:
    """Round half up to one decimal; the epsilon absorbs float artefacts (x.x4999…)."""
    return math.floor((value + 1e-6) * 10 + 0.5) / 10.0


def _key(macro: tuple[int, ...]) -> str:
    return "".join(str(level) for level in macro)


def _parse_parts(text: str) -> dict[str, str]:
    return dict(part.split(":", 1) for part in text.split("/"))


@dataclass(frozen=True, slots=True)
class _V4Tables:
    """The specification's data: macrovector scores, highest severity vectors per
    equivalence class level, and each level's depth."""

    scores: dict[str, float]
    highest: dict[str, dict[str, list[dict[str, str]]]]
    depths: dict[str, dict[str, int]]

    def score(self, macro: tuple[int, ...]) -> float | None:
        return self.scores.get(_key(macro))

    def depth(self, eq: str, level: str) -> float:
        return float(self.depths[eq][level])

    def highest_for(self, macro: tuple[int, ...]) -> list[dict[str, str]]:
        eq1, eq2, eq3, eq4, eq5, eq6 = (str(level) for level in macro)
        groups = (
            self.highest["eq1"][eq1],
            self.highest["eq2"][eq2],
            self.highest["eq3eq6"][eq3 + eq6],
            self.highest["eq4"][eq4],
            self.highest["eq5"][eq5],
        )
        combined: list[dict[str, str]] = []
        for parts in itertools.product(*groups):
            merged: dict[str, str] = {}
            for part in parts:
                merged.update(part)
            combined.append(merged)
        return combined


@cache
def _v4_tables() -> _V4Tables:
    text = resources.files("watchkeeper.vulns").joinpath(_V4_DATA).read_text("utf-8")
    raw = json.loads(text)
    return _V4Tables(
        scores={key: float(value) for key, value in raw["macrovectors"].items()},
        highest={
            eq: {level: [_parse_parts(v) for v in vectors] for level, vectors in levels.items()}
            for eq, levels in raw["highest_severity"].items()
        },
        depths={
            eq: {level: int(depth) for level, depth in levels.items()}
            for eq, levels in raw["depths"].items()
        },
    )


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

"""Decay of indicator scores (placeholder until the full model lands)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from watchkeeper.intel.model import Kind


@dataclass(frozen=True)
class DecayPolicy:
    lifetime_days: float
    decay_speed: float = 0.3
    threshold: float = 20.0


DEFAULT_POLICIES = {kind: DecayPolicy(90.0) for kind in Kind}


def policies_from(settings: dict[str, dict[str, float]]) -> dict[Kind, DecayPolicy]:
    out = dict(DEFAULT_POLICIES)
    for kind, values in settings.items():
        out[Kind(kind)] = DecayPolicy(**values)
    return out


def base_score(confidence: int, sightings: int, false_positives: int) -> float:
    return float(confidence) * 0.5**false_positives


def score(policy: DecayPolicy, base: float, since: datetime, now: datetime) -> float:
    age = max(0.0, (now - since).total_seconds() / 86400)
    if age >= policy.lifetime_days:
        return 0.0
    return float(base * (1 - (age / policy.lifetime_days) ** (1 / policy.decay_speed)))


def expires_at(policy: DecayPolicy, base: float, since: datetime) -> datetime | None:
    if base <= policy.threshold:
        return since
    fraction = (1 - policy.threshold / base) ** policy.decay_speed
    return since + timedelta(days=policy.lifetime_days * fraction)

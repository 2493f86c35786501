"""How an indicator's score fades with age: MISP's polynomial decaying model.

    score(t) = base × (1 − (t / τ) ^ (1 / δ))   for 0 ≤ t < τ, and 0 from τ on

``t`` is the time since the indicator was last seen (by a feed or in the events), ``τ``
its lifetime and ``δ`` the decay speed: below 1 the score holds near ``base`` for most of
the lifetime and falls steeply towards its end; above 1 it drops fast at first. An
indicator whose score is under the policy's threshold no longer matches.

The base comes from the sources' confidence, raised by sightings and cut by false
positives (:func:`base_score`). A new sighting restarts the clock (``since``), as in MISP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from watchkeeper.errors import InputError, UsageError
from watchkeeper.intel.model import Kind, StoredIndicator

SIGHTING_GAIN = 0.25
"""Each confirmed sighting closes this share of the gap between the base and 100."""
FALSE_POSITIVE_CUT = 0.125
"""Each false positive multiplies the base by this (three halvings): one report takes even
a base of 100 to 12.5, under the default threshold of 20, so an analyst's word stops the
indicator matching at once. A plain halving would leave a confident indicator at 50."""


@dataclass(frozen=True, slots=True)
class DecayPolicy:
    """How fast indicators of one kind age. ``lifetime_days`` infinite: never decays."""

    lifetime_days: float
    decay_speed: float = 0.3
    threshold: float = 20.0

    def __post_init__(self) -> None:
        for name in ("lifetime_days", "decay_speed", "threshold"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and not isinstance(value, bool)):
                raise UsageError(f"{name} is a number, not {value!r}")
            if math.isnan(value) or value <= 0:
                raise UsageError(f"{name} must be positive, not {value!r}")
        if math.isinf(self.decay_speed) or self.threshold > 100:
            raise UsageError("decay_speed must be finite and threshold at most 100")

    @property
    def decays(self) -> bool:
        return math.isfinite(self.lifetime_days)


NEVER = DecayPolicy(math.inf)
"""The score stays at its base: for values whose meaning does not change with time."""

_IP = DecayPolicy(30)
_NAME = DecayPolicy(90)
_FILE = DecayPolicy(365)
_FINGERPRINT = DecayPolicy(180)

DEFAULT_POLICIES: dict[Kind, DecayPolicy] = {
    # Addresses are reassigned within weeks: cloud instances, VPS, residential lines,
    # compromised hosts that get cleaned. An old IP indicator mostly hits innocent users.
    Kind.IPV4: _IP,
    Kind.IPV6: _IP,
    Kind.CIDR: _IP,
    # Names and addresses cost money and effort to replace, so campaigns reuse them for
    # months; phishing URLs and senders live shorter, but a sighting keeps them alive.
    Kind.DOMAIN: _NAME,
    Kind.URL: _NAME,
    Kind.EMAIL: _NAME,
    Kind.FILENAME: _NAME,
    Kind.USER_AGENT: _NAME,
    # A digest names the same bytes forever, but old samples stop circulating: a year
    # keeps the match set bounded, and any sighting restarts the year.
    Kind.MD5: _FILE,
    Kind.SHA1: _FILE,
    Kind.SHA256: _FILE,
    # TLS client fingerprints follow a tool's version and are shared with benign clients.
    Kind.JA3: _FINGERPRINT,
    Kind.JA4: _FINGERPRINT,
    # A vulnerability id does not stop being that vulnerability.
    Kind.CVE: NEVER,
}

_KEYS = ("lifetime_days", "decay_speed", "threshold")


def policies_from(settings: dict[str, dict[str, float]]) -> dict[Kind, DecayPolicy]:
    """The default policies with the configured values of each kind laid over them, e.g.
    ``{"ipv4": {"lifetime_days": 14}}``; :class:`UsageError` naming the kind and key for
    an unknown kind or key or a value that is not a positive number."""
    policies = dict(DEFAULT_POLICIES)
    known = {str(kind) for kind in Kind}
    for name, values in settings.items():
        where = f"intel decay settings, {name}"
        if name not in known:
            raise UsageError(f"unknown kind (known: {', '.join(sorted(known))})", location=where)
        if not isinstance(values, dict):
            raise UsageError("expected a mapping of policy values", location=where)
        for key in values:
            if key not in _KEYS:
                raise UsageError(f"unknown key {key!r} (known: {', '.join(_KEYS)})",
                                 location=where)
        kind = Kind(name)
        try:
            policies[kind] = replace(policies[kind], **values)
        except UsageError as error:
            raise UsageError(error.message, location=where) from None
    return policies


def base_score(confidence: int, sightings: int, false_positives: int) -> float:
    """The score before decay, 0–100.

    Start from the confidence; each sighting closes a quarter of the gap to 100
    (50 → 62.5 → 71.9 …: diminishing returns, never quite 100); then each false positive
    multiplies by 1/8 (:data:`FALSE_POSITIVE_CUT`), whatever the sightings."""
    if not 0 <= confidence <= 100:
        raise InputError(f"confidence {confidence} is not within 0–100")
    if sightings < 0 or false_positives < 0:
        raise InputError("sighting and false-positive counts cannot be negative")
    raised = 100 - (100 - confidence) * (1 - SIGHTING_GAIN) ** sightings
    return float(raised * FALSE_POSITIVE_CUT**false_positives)


def last_activity(indicator: StoredIndicator) -> datetime:
    """The ``since`` of an indicator: the later of its last report and its last sighting."""
    if indicator.last_sighting is None:
        return indicator.last_seen
    return max(indicator.last_seen, indicator.last_sighting)


def score(policy: DecayPolicy, base: float, since: datetime, now: datetime) -> float:
    """The decayed score at ``now``. A ``since`` in the future counts as no time elapsed."""
    if not policy.decays:
        return base
    elapsed = (now - since) / timedelta(days=1)
    if elapsed <= 0:
        return base
    if elapsed >= policy.lifetime_days:
        return 0.0
    return base * (1 - float((elapsed / policy.lifetime_days) ** (1 / policy.decay_speed)))


def expires_at(policy: DecayPolicy, base: float, since: datetime) -> datetime | None:
    """When the score falls under the threshold: the indicator matches while ``now`` is
    before it. None when it never does; ``since`` when the base is already not above it.

    Solving ``base × (1 − (t/τ)^(1/δ)) = threshold`` gives ``t = τ × (1 − threshold/base)^δ``.
    """
    if base <= policy.threshold:
        return since
    if not policy.decays:
        return None
    days = policy.lifetime_days * (1 - policy.threshold / base) ** policy.decay_speed
    return since + timedelta(days=days)


def matches(policy: DecayPolicy, base: float, since: datetime, now: datetime) -> bool:
    """Whether the decayed score still lets the indicator match at ``now``."""
    end = expires_at(policy, base, since)
    return end is None or now < end

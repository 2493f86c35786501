from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.errors import InputError, UsageError
from watchkeeper.intel.decay import (
    DEFAULT_POLICIES,
    NEVER,
    DecayPolicy,
    base_score,
    expires_at,
    last_activity,
    matches,
    policies_from,
    score,
)
from watchkeeper.intel.model import Kind, StoredIndicator

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def days(n: float) -> datetime:
    return T0 + timedelta(days=n)


def test_worked_example_speed_one_is_linear() -> None:
    # δ = 1: score = 80 × (1 − 25/100) = 80 × 0.75 = 60
    policy = DecayPolicy(100, decay_speed=1)
    assert score(policy, 80, T0, days(25)) == pytest.approx(60)


def test_worked_example_default_speed() -> None:
    # δ = 0.5, τ = 30: t = 15 → (15/30)^(1/0.5) = 0.5² = 0.25 → 100 × 0.75 = 75
    policy = DecayPolicy(30, decay_speed=0.5)
    assert score(policy, 100, T0, days(15)) == pytest.approx(75)
    # δ = 0.3, τ = 30, t = 15 → 0.5^(10/3) = 0.0992 → 100 × 0.9008 = 90.08
    assert score(DecayPolicy(30), 100, T0, days(15)) == pytest.approx(90.0794, abs=1e-3)


def test_score_is_zero_from_the_lifetime_on_and_base_at_the_start() -> None:
    policy = DecayPolicy(30)
    assert score(policy, 70, T0, days(30)) == 0
    assert score(policy, 70, T0, days(400)) == 0
    assert score(policy, 70, T0, T0) == 70
    # a last_seen in the future (a skewed clock) counts as no time elapsed
    assert score(policy, 70, T0, days(-3)) == 70


@given(
    lifetime=st.floats(1, 1000),
    speed=st.floats(0.05, 5),
    base=st.floats(1, 100),
    a=st.floats(0, 2000),
    b=st.floats(0, 2000),
)
def test_score_never_rises_with_time(
    lifetime: float, speed: float, base: float, a: float, b: float
) -> None:
    policy = DecayPolicy(lifetime, decay_speed=speed)
    early, late = sorted((a, b))
    assert score(policy, base, T0, days(late)) <= score(policy, base, T0, days(early))
    assert 0 <= score(policy, base, T0, days(late)) <= base


@given(lifetime=st.floats(1, 1000), speed=st.floats(0.05, 5), base=st.floats(21, 100))
def test_threshold_crossing_is_expires_at(lifetime: float, speed: float, base: float) -> None:
    policy = DecayPolicy(lifetime, decay_speed=speed)
    end = expires_at(policy, base, T0)
    assert end is not None
    assert score(policy, base, T0, end) == pytest.approx(policy.threshold, abs=1e-6)
    before, after = end - timedelta(minutes=1), end + timedelta(minutes=1)
    assert score(policy, base, T0, before) >= policy.threshold - 1e-9
    assert score(policy, base, T0, after) < policy.threshold + 1e-9
    assert matches(policy, base, T0, before)
    assert not matches(policy, base, T0, after)


def test_expires_at_worked_example() -> None:
    # τ = 30, δ = 1, base 80, threshold 20: t = 30 × (1 − 20/80)^1 = 22.5 days
    assert expires_at(DecayPolicy(30, decay_speed=1), 80, T0) == days(22.5)


def test_a_base_not_above_the_threshold_has_already_expired() -> None:
    assert expires_at(DecayPolicy(30), 20, T0) == T0
    assert expires_at(NEVER, 10, T0) == T0
    assert not matches(NEVER, 10, T0, T0)


def test_never_decaying_kinds() -> None:
    assert DEFAULT_POLICIES[Kind.CVE] is NEVER
    assert not NEVER.decays
    assert score(NEVER, 55, T0, days(10_000)) == 55
    assert expires_at(NEVER, 55, T0) is None
    assert matches(NEVER, 55, T0, days(10_000))


def test_every_kind_has_a_policy_and_ips_age_fastest() -> None:
    assert set(DEFAULT_POLICIES) == set(Kind)
    assert DEFAULT_POLICIES[Kind.IPV4].lifetime_days < DEFAULT_POLICIES[Kind.DOMAIN].lifetime_days
    assert DEFAULT_POLICIES[Kind.DOMAIN].lifetime_days < DEFAULT_POLICIES[Kind.SHA256].lifetime_days


def test_sightings_raise_the_base_with_diminishing_returns() -> None:
    # 50 → 100 − 50 × 0.75 = 62.5 → 100 − 50 × 0.5625 = 71.875
    assert base_score(50, 0, 0) == 50
    assert base_score(50, 1, 0) == pytest.approx(62.5)
    assert base_score(50, 2, 0) == pytest.approx(71.875)
    gains = [base_score(50, n + 1, 0) - base_score(50, n, 0) for n in range(5)]
    assert gains == sorted(gains, reverse=True)
    assert base_score(50, 200, 0) <= 100


def test_one_false_positive_takes_even_a_certain_indicator_under_the_threshold() -> None:
    # 100 × 1/8 = 12.5 < 20
    assert base_score(100, 0, 1) == pytest.approx(12.5)
    assert base_score(100, 0, 1) < DecayPolicy(30).threshold
    # sightings do not outweigh it: (100 − 50 × 0.75³) / 8 = 78.90625 / 8 = 9.86…
    assert base_score(50, 3, 1) == pytest.approx(78.90625 / 8)
    assert not matches(DEFAULT_POLICIES[Kind.SHA256], base_score(100, 5, 1), T0, T0)


def test_base_score_rejects_impossible_counts() -> None:
    with pytest.raises(InputError, match="confidence"):
        base_score(101, 0, 0)
    with pytest.raises(InputError, match="negative"):
        base_score(50, -1, 0)


def _indicator(last_seen: datetime, last_sighting: datetime | None) -> StoredIndicator:
    return StoredIndicator(
        id=1, kind=Kind.IPV4, value="203.0.113.9", confidence=80, tlp="amber",
        sources=("feed",), tags=(), attack=(), threat=None, description="",
        first_seen=T0, last_seen=last_seen, valid_until=None, created_at=T0, updated_at=T0,
        sightings=1, false_positives=0, last_sighting=last_sighting, score=80, active=True,
    )


def test_a_sighting_restarts_the_clock() -> None:
    policy = DEFAULT_POLICIES[Kind.IPV4]
    stale = _indicator(last_seen=T0, last_sighting=None)
    seen = _indicator(last_seen=T0, last_sighting=days(29))
    assert last_activity(stale) == T0
    assert last_activity(seen) == days(29)
    assert score(policy, 80, last_activity(stale), days(30)) == 0
    assert score(policy, 80, last_activity(seen), days(30)) > 79
    assert last_activity(_indicator(last_seen=days(5), last_sighting=days(2))) == days(5)


def test_policies_from_overlays_configured_values() -> None:
    policies = policies_from({"ipv4": {"lifetime_days": 7}, "sha256": {"threshold": 40.0}})
    assert policies[Kind.IPV4] == DecayPolicy(7, decay_speed=0.3, threshold=20)
    assert policies[Kind.SHA256].threshold == 40
    assert policies[Kind.SHA256].lifetime_days == DEFAULT_POLICIES[Kind.SHA256].lifetime_days
    assert policies[Kind.DOMAIN] is DEFAULT_POLICIES[Kind.DOMAIN]
    assert policies_from({"cve": {"lifetime_days": math.inf}})[Kind.CVE].decays is False


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"ipv5": {"lifetime_days": 3}}, "ipv5: unknown kind"),
        ({"ipv4": {"lifetime": 3}}, "ipv4: unknown key 'lifetime'"),
        ({"ipv4": {"lifetime_days": 0}}, "ipv4: lifetime_days must be positive"),
        ({"domain": {"decay_speed": -1}}, "domain: decay_speed must be positive"),
        ({"url": {"threshold": math.nan}}, "url: threshold must be positive"),
        ({"url": {"threshold": 120}}, "url: .*threshold at most 100"),
        ({"url": {"threshold": "high"}}, "url: threshold is a number"),
    ],
)
def test_policies_from_refuses_bad_settings(
    settings: dict[str, dict[str, float]], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        policies_from(settings)

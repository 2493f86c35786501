"""What the metrics are made of: a period, the durations' statistics, and the report."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from watchkeeper.errors import UsageError
from watchkeeper.search.values import as_utc

DEFAULT_SPAN = timedelta(days=30)
MAX_SPAN = timedelta(days=366)
"""A period has one bucket per day: a longer one would make a chart nobody can read."""


@dataclass(frozen=True, slots=True)
class Period:
    """Alerts created at or after ``since`` and before ``until``, both in UTC."""

    since: datetime
    until: datetime

    @classmethod
    def of(cls, since: datetime | None, until: datetime | None,
           now: datetime | None = None) -> Period:
        """The period asked for; a missing end is now, a missing start 30 days before the end."""
        end = as_utc(until) if until is not None else (now or datetime.now(UTC))
        start = as_utc(since) if since is not None else end - DEFAULT_SPAN
        if start >= end:
            raise UsageError(f"since ({start.isoformat()}) must be before until "
                             f"({end.isoformat()})")
        if end - start > MAX_SPAN:
            raise UsageError(f"a period may span at most {MAX_SPAN.days} days")
        return cls(start, end)

    def days(self) -> list[date]:
        """Every UTC day the period touches, in order."""
        first, last = self.since.date(), (self.until - timedelta(microseconds=1)).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@dataclass(frozen=True, slots=True)
class Durations:
    """Durations in seconds: how many, their mean, median and 90th percentile (None if
    there are none)."""

    count: int
    mean: float | None
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Durations:
        if not seconds:
            return cls(0, None, None, None)
        ordered = sorted(seconds)
        return cls(len(ordered), round(statistics.fmean(ordered), 3),
                   round(statistics.median(ordered), 3), round(nearest_rank(ordered, 0.9), 3))


def nearest_rank(ordered: Sequence[float], fraction: float) -> float:
    """The smallest value with at least ``fraction`` of the values at or below it."""
    return ordered[max(math.ceil(fraction * len(ordered)), 1) - 1]


@dataclass(frozen=True, slots=True)
class Timings:
    """One group of alerts (all, a level, a rule): how many, and MTTD, MTTA and MTTR."""

    count: int
    mttd: Durations
    mtta: Durations
    mttr: Durations


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    count: int


@dataclass(frozen=True, slots=True)
class RuleNoise:
    """A rule's alerts, and of its closed alerts with a verdict how many were false."""

    rule_id: str
    rule_title: str
    count: int
    verdicts: int
    false_positives: int
    false_alarm_rate: float | None
    """false_positives / verdicts; None without verdicts."""


@dataclass(frozen=True, slots=True)
class Advice:
    """A rule that raises many false alarms, and where most of them come from."""

    rule_id: str
    rule_title: str
    verdicts: int
    false_positives: int
    false_alarm_rate: float
    host: str | None
    """The host of most of the rule's false positives (None if they name no host)."""
    host_false_positives: int
    condition: str | None
    """An exception condition to consider, e.g. ``host.name: ws-17``."""
    match: dict[str, str] | None
    """The same condition as an exception's ``match`` (docs/api.md)."""


@dataclass(frozen=True, slots=True)
class KpiReport:
    since: datetime
    until: datetime
    level: str | None
    overall: Timings
    by_level: dict[str, Timings]
    by_rule: dict[str, Timings]
    volume: list[DayCount]
    noisiest: list[RuleNoise]
    advice: list[Advice]
    skewed: int
    """Alerts left out of MTTD because they were created before their first event's time
    (a sender's clock ahead)."""

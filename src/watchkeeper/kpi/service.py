"""The metrics of a period: one parameterized query for the period's alerts, then pure
functions over what it fetched (the definitions: docs/metrics.md)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchkeeper.alerts.model import AlertRow
from watchkeeper.detection.rules import LEVELS
from watchkeeper.errors import UsageError
from watchkeeper.kpi.model import (
    Advice,
    DayCount,
    Durations,
    KpiReport,
    Period,
    RuleNoise,
    Timings,
)

TOP = 10
"""How many rules the noisiest list and the advice hold."""
MIN_VERDICTS = 3
"""Fewer verdicts than this say too little about a rule to advise on it."""


@dataclass(frozen=True, slots=True)
class AlertFact:
    """What the metrics read of one alert."""

    rule_id: str
    rule_title: str
    level: str
    host: str | None
    status: str
    verdict: str | None
    first_seen: datetime
    created_at: datetime
    acknowledged_at: datetime | None
    closed_at: datetime | None


def compute(session: Session, period: Period, level: str | None = None,
            top: int = TOP) -> KpiReport:
    """The metrics of the alerts created in ``period`` (of one ``level`` if given)."""
    if level is not None and level not in LEVELS:
        raise UsageError(f"unknown level {level!r} (known: {', '.join(LEVELS)})")
    return summarize(fetch(session, period, level), period, level, top)


def fetch(session: Session, period: Period, level: str | None = None) -> list[AlertFact]:
    query = select(
        AlertRow.rule_id, AlertRow.rule_title, AlertRow.level, AlertRow.host, AlertRow.status,
        AlertRow.verdict, AlertRow.first_seen, AlertRow.created_at, AlertRow.acknowledged_at,
        AlertRow.closed_at,
    ).where(AlertRow.created_at >= period.since, AlertRow.created_at < period.until)
    if level is not None:
        query = query.where(AlertRow.level == level)
    return [AlertFact(**row._asdict()) for row in session.execute(query.order_by(AlertRow.id))]


def summarize(facts: Sequence[AlertFact], period: Period, level: str | None = None,
              top: int = TOP) -> KpiReport:
    """The report over alerts already fetched: pure, so that it is tested without a
    database."""
    by_level: dict[str, list[AlertFact]] = defaultdict(list)
    by_rule: dict[str, list[AlertFact]] = defaultdict(list)
    for fact in facts:
        by_level[fact.level].append(fact)
        by_rule[fact.rule_id].append(fact)
    noise = [rule_noise(rule_facts) for _, rule_facts in sorted(by_rule.items())]
    return KpiReport(
        since=period.since,
        until=period.until,
        level=level,
        overall=timings(facts),
        by_level={name: timings(group) for name, group in sorted(by_level.items())},
        by_rule={rule: timings(group) for rule, group in sorted(by_rule.items())},
        volume=volume(facts, period),
        noisiest=sorted(noise, key=lambda n: (-n.count, n.rule_id))[:top],
        advice=advice(by_rule, top),
        skewed=sum(1 for f in facts if f.created_at < f.first_seen),
    )


def timings(facts: Iterable[AlertFact]) -> Timings:
    """MTTD: first event → alert, leaving out alerts older than their event (clock skew);
    MTTA: alert → acknowledged; MTTR: alert → closed."""
    detect: list[float] = []
    acknowledge: list[float] = []
    resolve: list[float] = []
    count = 0
    for fact in facts:
        count += 1
        if fact.created_at >= fact.first_seen:
            detect.append(_seconds(fact.first_seen, fact.created_at))
        if fact.acknowledged_at is not None:
            acknowledge.append(_seconds(fact.created_at, fact.acknowledged_at))
        if fact.status == "closed" and fact.closed_at is not None:
            resolve.append(_seconds(fact.created_at, fact.closed_at))
    return Timings(count, Durations.of(detect), Durations.of(acknowledge), Durations.of(resolve))


def _seconds(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


def volume(facts: Iterable[AlertFact], period: Period) -> list[DayCount]:
    """Alerts created per UTC day, every day of the period (a quiet day counts 0)."""
    counts = Counter(fact.created_at.date() for fact in facts)
    return [DayCount(day, counts[day]) for day in period.days()]


def _judged(facts: Iterable[AlertFact]) -> list[AlertFact]:
    return [f for f in facts if f.status == "closed" and f.verdict is not None]


def rule_noise(facts: Sequence[AlertFact]) -> RuleNoise:
    judged = _judged(facts)
    false = sum(1 for f in judged if f.verdict == "false_positive")
    return RuleNoise(
        rule_id=facts[0].rule_id, rule_title=facts[-1].rule_title, count=len(facts),
        verdicts=len(judged), false_positives=false,
        false_alarm_rate=round(false / len(judged), 4) if judged else None,
    )


def advice(by_rule: dict[str, list[AlertFact]], top: int = TOP,
           min_verdicts: int = MIN_VERDICTS) -> list[Advice]:
    """The rules with the highest false-alarm rate among those with ``min_verdicts``
    verdicts or more; an exception for a host is suggested only where that host raised at
    least half of the rule's false positives, as one would not stop the rest."""
    found: list[Advice] = []
    for facts in by_rule.values():
        noise = rule_noise(facts)
        if noise.verdicts < min_verdicts or noise.false_positives == 0:
            continue
        hosts = Counter(f.host for f in _judged(facts)
                        if f.verdict == "false_positive" and f.host)
        host, on_host = min(hosts.items(), key=lambda h: (-h[1], h[0]), default=(None, 0))
        worth = host is not None and 2 * on_host >= noise.false_positives
        found.append(Advice(
            rule_id=noise.rule_id, rule_title=noise.rule_title, verdicts=noise.verdicts,
            false_positives=noise.false_positives,
            false_alarm_rate=noise.false_alarm_rate or 0.0, host=host,
            host_false_positives=on_host,
            condition=f"host.name: {host}" if worth else None,
            match={"host.name": str(host)} if worth else None,
        ))
    found.sort(key=lambda a: (-a.false_alarm_rate, -a.false_positives, a.rule_id))
    return found[:top]

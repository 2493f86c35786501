"""What the dashboard shows besides a period's report: the open workload, MTTD and MTTR
week by week, and the false-alarm rate of every rule."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchkeeper.alerts.model import AlertRow
from watchkeeper.cases.model import CaseRow
from watchkeeper.cases.service import OPEN_STATUSES, SEVERITIES
from watchkeeper.detection.rules import LEVELS
from watchkeeper.kpi.model import Period, RuleNoise, Timings
from watchkeeper.kpi.service import AlertFact, fetch, rule_noise, timings

OPEN_ALERTS = ("new", "acknowledged")
OPEN_CASES = OPEN_STATUSES
WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Week:
    """The alerts created in the seven days from ``since``, and their timings."""

    since: datetime
    until: datetime
    timings: Timings


def open_alerts_by_level(session: Session) -> dict[str, int]:
    """Open alerts (new or acknowledged) per level, every level listed, most severe first."""
    rows = session.execute(select(AlertRow.level, func.count())
                           .where(AlertRow.status.in_(OPEN_ALERTS)).group_by(AlertRow.level))
    found = {str(level): int(count) for level, count in rows}
    return {level: found.get(level, 0) for level in reversed(LEVELS)}


def open_cases_by_severity(session: Session) -> dict[str, int]:
    """Open cases (not resolved or closed) per severity, most severe first."""
    rows = session.execute(select(CaseRow.severity, func.count())
                           .where(CaseRow.status.in_(OPEN_CASES)).group_by(CaseRow.severity))
    found = {str(severity): int(count) for severity, count in rows}
    return {severity: found.get(severity, 0) for severity in reversed(SEVERITIES)}


def weekly(session: Session, until: datetime, weeks: int = 8) -> list[Week]:
    """MTTD, MTTA and MTTR of the alerts created in each of the last ``weeks`` weeks,
    oldest first: one query, then the kpi service's own definitions per week."""
    since = until - weeks * WEEK
    return by_week(fetch(session, Period.of(since, until)), since, weeks)


def by_week(facts: Sequence[AlertFact], since: datetime, weeks: int) -> list[Week]:
    """The facts cut into ``weeks`` seven-day buckets from ``since`` (pure)."""
    buckets: dict[int, list[AlertFact]] = defaultdict(list)
    for fact in facts:
        n = (fact.created_at - since) // WEEK
        if 0 <= n < weeks:
            buckets[n].append(fact)
    return [Week(since + n * WEEK, since + (n + 1) * WEEK, timings(buckets[n]))
            for n in range(weeks)]


def false_alarm_rates(session: Session, period: Period) -> dict[str, RuleNoise]:
    """rule id → its alerts, verdicts and false-alarm rate in ``period``."""
    by_rule: dict[str, list[AlertFact]] = defaultdict(list)
    for fact in fetch(session, period):
        by_rule[fact.rule_id].append(fact)
    return {rule_id: rule_noise(facts) for rule_id, facts in by_rule.items()}

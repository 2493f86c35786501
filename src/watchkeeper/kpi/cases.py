"""Case metrics of a period: MTTC (case opened → contained) and MTTR (case opened →
resolved), overall, by severity and by team, for the cases opened in the period
(definitions: docs/metrics.md)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchkeeper.cases.model import CaseRow
from watchkeeper.kpi.model import Durations, Period

NO_TEAM = "(no team)"


@dataclass(frozen=True, slots=True)
class CaseFact:
    severity: str
    team: str | None
    created_at: datetime
    contained_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class CaseTimings:
    count: int
    mttc: Durations
    mttr: Durations


@dataclass(frozen=True, slots=True)
class CaseReport:
    overall: CaseTimings
    by_severity: dict[str, CaseTimings]
    by_team: dict[str, CaseTimings]


def case_report(session: Session, period: Period) -> CaseReport:
    rows = session.execute(
        select(CaseRow.severity, CaseRow.team, CaseRow.created_at, CaseRow.contained_at,
               CaseRow.resolved_at)
        .where(CaseRow.created_at >= period.since, CaseRow.created_at < period.until)
        .order_by(CaseRow.id))
    return summarize_cases([CaseFact(**row._asdict()) for row in rows])


def summarize_cases(facts: list[CaseFact]) -> CaseReport:
    by_severity: dict[str, list[CaseFact]] = defaultdict(list)
    by_team: dict[str, list[CaseFact]] = defaultdict(list)
    for fact in facts:
        by_severity[fact.severity].append(fact)
        by_team[fact.team or NO_TEAM].append(fact)
    return CaseReport(
        overall=case_timings(facts),
        by_severity={name: case_timings(group) for name, group in sorted(by_severity.items())},
        by_team={name: case_timings(group) for name, group in sorted(by_team.items())},
    )


def case_timings(facts: Iterable[CaseFact]) -> CaseTimings:
    """A case resolved without ever being contained counts as contained when resolved:
    the threat was gone by then."""
    contain: list[float] = []
    resolve: list[float] = []
    count = 0
    for fact in facts:
        count += 1
        contained = fact.contained_at or fact.resolved_at
        if contained is not None:
            contain.append((contained - fact.created_at).total_seconds())
        if fact.resolved_at is not None:
            resolve.append((fact.resolved_at - fact.created_at).total_seconds())
    return CaseTimings(count, Durations.of(contain), Durations.of(resolve))

"""Case metrics of a period: MTTC (case opened → contained), MTTR (case opened →
resolved) and SLA compliance, overall, by severity and by team, for the cases opened in
the period (definitions: docs/metrics.md)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchkeeper.cases.model import CaseRow
from watchkeeper.cases.sla import BREACHED, KINDS, MET, MISSED, SlaPolicy, sla_states
from watchkeeper.kpi.model import Durations, Period

NO_TEAM = "(no team)"


@dataclass(frozen=True, slots=True)
class CaseFact:
    severity: str
    team: str | None
    created_at: datetime
    contained_at: datetime | None
    resolved_at: datetime | None
    acknowledged_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Compliance:
    """One SLA over a group of cases: how many met it, missed it (done late) or are past
    due still running; ``rate`` = met / (met + missed + breached), None when none is due."""

    met: int
    missed: int
    breached: int
    rate: float | None


@dataclass(frozen=True, slots=True)
class CaseTimings:
    count: int
    mttc: Durations
    mttr: Durations
    sla: dict[str, Compliance] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CaseReport:
    overall: CaseTimings
    by_severity: dict[str, CaseTimings]
    by_team: dict[str, CaseTimings]


def case_report(session: Session, period: Period, sla: SlaPolicy | None = None,
                now: datetime | None = None) -> CaseReport:
    """With ``sla``, SLA compliance too, the running SLAs judged at ``now``."""
    rows = session.execute(
        select(CaseRow.severity, CaseRow.team, CaseRow.created_at, CaseRow.contained_at,
               CaseRow.resolved_at, CaseRow.acknowledged_at)
        .where(CaseRow.created_at >= period.since, CaseRow.created_at < period.until)
        .order_by(CaseRow.id))
    return summarize_cases([CaseFact(**row._asdict()) for row in rows], sla, now)


def summarize_cases(facts: list[CaseFact], sla: SlaPolicy | None = None,
                    now: datetime | None = None) -> CaseReport:
    by_severity: dict[str, list[CaseFact]] = defaultdict(list)
    by_team: dict[str, list[CaseFact]] = defaultdict(list)
    for fact in facts:
        by_severity[fact.severity].append(fact)
        by_team[fact.team or NO_TEAM].append(fact)
    moment = now or datetime.now(UTC)
    return CaseReport(
        overall=case_timings(facts, sla, moment),
        by_severity={name: case_timings(group, sla, moment)
                     for name, group in sorted(by_severity.items())},
        by_team={name: case_timings(group, sla, moment)
                 for name, group in sorted(by_team.items())},
    )


def compliance(
    facts: Iterable[CaseFact], sla: SlaPolicy, now: datetime
) -> dict[str, Compliance]:
    tally = {kind: Counter[str]() for kind in KINDS}
    for fact in facts:
        case = {"created_at": fact.created_at, "severity": fact.severity,
                "acknowledged_at": fact.acknowledged_at, "contained_at": fact.contained_at,
                "resolved_at": fact.resolved_at}
        for state in sla_states(case, sla, now):
            tally[state.kind][state.state] += 1
    found = {}
    for kind, counts in tally.items():
        due = counts[MET] + counts[MISSED] + counts[BREACHED]
        found[kind] = Compliance(counts[MET], counts[MISSED], counts[BREACHED],
                                 counts[MET] / due if due else None)
    return found


def case_timings(facts: Iterable[CaseFact], sla: SlaPolicy | None = None,
                 now: datetime | None = None) -> CaseTimings:
    """A case resolved without ever being contained counts as contained when resolved:
    the threat was gone by then."""
    facts = list(facts)
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
    judged = compliance(facts, sla, now or datetime.now(UTC)) if sla is not None else {}
    return CaseTimings(count, Durations.of(contain), Durations.of(resolve), judged)

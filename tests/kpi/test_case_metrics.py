"""MTTC and MTTR of cases: exact figures, by severity and by team, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watchkeeper.cases.model import CaseRow
from watchkeeper.cases.sla import SlaPolicy
from watchkeeper.config import CaseSettings
from watchkeeper.kpi.cases import CaseFact, case_report, summarize_cases
from watchkeeper.kpi.model import Period
from watchkeeper.state.db import StateDB

T0 = datetime(2026, 11, 20, 8, tzinfo=UTC)


def _fact(severity: str, team: str | None, contain_h: float | None,
          resolve_h: float | None) -> CaseFact:
    def at(hours: float | None) -> datetime | None:
        return None if hours is None else T0 + timedelta(hours=hours)
    return CaseFact(severity, team, T0, at(contain_h), at(resolve_h))


def test_contain_and_resolve_times() -> None:
    report = summarize_cases([
        _fact("critical", "blue", 1, 5),
        _fact("critical", None, 3, None),
        _fact("low", "blue", None, 2),  # resolved, never contained: contained then
        _fact("low", "blue", None, None),
    ])
    assert report.overall.count == 4
    assert (report.overall.mttc.count, report.overall.mttc.mean) == (3, 2 * 3600.0)
    assert (report.overall.mttr.count, report.overall.mttr.mean) == (2, 3.5 * 3600)
    assert report.by_severity["critical"].mttc.median == 2 * 3600.0
    assert report.by_severity["low"].mttr.mean == 2 * 3600.0
    assert sorted(report.by_team) == ["(no team)", "blue"]
    assert report.by_team["blue"].count == 3


def test_cases_opened_in_the_period_only(state_db: StateDB) -> None:
    with state_db.session() as session:
        for n, created in enumerate((T0, T0 - timedelta(days=40))):
            session.add(CaseRow(title=f"c{n}", description="", severity="high", priority="P2",
                                status="resolved", tags=[], tlp="amber", created_by="ann",
                                created_at=created, updated_at=created,
                                contained_at=created + timedelta(minutes=30),
                                resolved_at=created + timedelta(hours=2)))
    with state_db.read() as session:
        report = case_report(session, Period.of(T0 - timedelta(days=1), T0 + timedelta(days=1)))
    assert report.overall.count == 1
    assert report.overall.mttc.mean == 1800.0
    assert report.overall.mttr.mean == 7200.0


def test_sla_compliance_by_severity_and_team() -> None:
    policy = SlaPolicy.from_settings(CaseSettings())  # critical: 15 min / 4 h / 24 h
    now = T0 + timedelta(days=2)
    facts = [
        # acknowledged in 10 min (met), contained in 5 h (missed), resolved in 20 h (met)
        CaseFact("critical", "blue", T0, T0 + timedelta(hours=5), T0 + timedelta(hours=20),
                 T0 + timedelta(minutes=10)),
        # never acknowledged, still open two days on: every SLA breached
        CaseFact("critical", None, T0, None, None, None),
    ]
    report = summarize_cases(facts, policy, now)
    ack = report.overall.sla["acknowledge"]
    assert (ack.met, ack.missed, ack.breached, ack.rate) == (1, 0, 1, 0.5)
    contain = report.overall.sla["contain"]
    assert (contain.met, contain.missed, contain.breached, contain.rate) == (0, 1, 1, 0.0)
    assert report.by_team["blue"].sla["resolve"].rate == 1.0
    assert report.by_team["(no team)"].sla["resolve"].breached == 1
    assert summarize_cases(facts).overall.sla == {}, "no policy, no compliance"


def test_an_sla_not_yet_due_is_not_judged() -> None:
    policy = SlaPolicy.from_settings(CaseSettings())
    fresh = [CaseFact("low", None, T0, None, None, None)]
    report = summarize_cases(fresh, policy, T0 + timedelta(minutes=5))
    assert report.overall.sla["resolve"].rate is None

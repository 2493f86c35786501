"""MTTC and MTTR of cases: exact figures, by severity and by team, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watchkeeper.cases.model import CaseRow
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

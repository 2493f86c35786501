"""SLAs per severity: the pure computation, the list of cases at risk, and escalation
recorded exactly once per case and SLA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.serverfixtures import Api
from watchkeeper.audit.model import AuditEntry
from watchkeeper.audit.service import AuditLog
from watchkeeper.cases.escalation import SlaWatch
from watchkeeper.cases.model import CaseRow
from watchkeeper.cases.service import CaseService, NewCase
from watchkeeper.cases.sla import SlaPolicy, sla_states
from watchkeeper.config import CaseSettings, load_settings
from watchkeeper.errors import UsageError
from watchkeeper.notifications.service import for_role
from watchkeeper.state.db import StateDB

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
POLICY = SlaPolicy.from_settings(CaseSettings())


def case(**times: datetime | None) -> dict[str, object]:
    return {"created_at": T0, "severity": "critical", **times}


def states(at: datetime, **times: datetime | None) -> list[tuple[str, datetime, str]]:
    return [(s.kind, s.due_at, s.state) for s in sla_states(case(**times), POLICY, at)]


def test_defaults_per_severity() -> None:
    assert POLICY.minutes == {
        "acknowledge": {"critical": 15, "high": 30, "medium": 240, "low": 1440},
        "contain": {"critical": 240, "high": 720, "medium": 2880, "low": 7200},
        "resolve": {"critical": 1440, "high": 4320, "medium": 10080, "low": 20160},
    }


def test_due_times_and_states_of_a_critical_case() -> None:
    ack, contain, resolve = T0 + timedelta(minutes=15), T0 + timedelta(hours=4), \
        T0 + timedelta(hours=24)
    assert states(T0) == [("acknowledge", ack, "on_track"), ("contain", contain, "on_track"),
                          ("resolve", resolve, "on_track")]
    # 25% of 15 minutes is 3m45s: at 11m15s left-time equals the threshold → at risk
    assert states(T0 + timedelta(minutes=11))[0][2] == "on_track"
    assert states(T0 + timedelta(minutes=11, seconds=15))[0][2] == "at_risk"
    assert states(T0 + timedelta(minutes=16))[0][2] == "breached"
    late = T0 + timedelta(minutes=20)
    assert states(T0 + timedelta(hours=1), acknowledged_at=late)[0][2] == "missed"
    assert states(T0 + timedelta(hours=1), acknowledged_at=T0 + timedelta(minutes=5))[0][2] \
        == "met"
    # resolving without containing meets containment too
    resolved = T0 + timedelta(hours=3)
    assert [s for _, _, s in states(T0 + timedelta(days=3), acknowledged_at=T0,
                                    resolved_at=resolved)] == ["met", "met", "met"]


def test_settings_override_one_severity_and_refuse_bad_ones(tmp_path: Path) -> None:
    config = tmp_path / "watchkeeper.toml"
    config.write_text("[cases]\nsla_acknowledge_minutes = { critical = 5 }\n", encoding="utf-8")
    settings = load_settings(config)
    assert settings.cases.sla_acknowledge_minutes == {
        "critical": 5, "high": 30, "medium": 240, "low": 1440}
    config.write_text("[cases]\nsla_resolve_minutes = { urgent = 5, low = 0 }\n",
                      encoding="utf-8")
    with pytest.raises(UsageError, match=r"cases.sla_resolve_minutes: Value error, unknown "
                                         r"severity urgent \(known: low, medium, high, "
                                         r"critical\)"):
        load_settings(config)


def _opened(db: StateDB, cases: CaseService, title: str, severity: str,
            at: datetime) -> int:
    made = cases.create("alice", NewCase(title=title, severity=severity))
    with db.session() as session:
        row = session.get(CaseRow, made["id"])
        assert row is not None
        row.created_at = at
    return int(made["id"])


def test_breaches_listed_and_escalated_once(state_db: StateDB) -> None:
    cases = CaseService(state_db, AuditLog(state_db))
    watch = SlaWatch(cases, escalate_to="responder")
    late = _opened(state_db, cases, "Ransomware on FS1", "critical", T0)
    risky = _opened(state_db, cases, "Phish", "medium", T0 + timedelta(minutes=10))
    calm = _opened(state_db, cases, "Scan", "low", T0 + timedelta(minutes=15))
    now = T0 + timedelta(hours=3, minutes=10)  # critical: ack breached, contain at risk
    listed = watch.overdue(now)
    assert [c["id"] for c in listed] == [late, risky]
    assert [(s["kind"], s["state"]) for s in listed[0]["sla"]] == [
        ("acknowledge", "breached"), ("contain", "at_risk"), ("resolve", "on_track")]
    assert listed[1]["sla"][0]["state"] == "at_risk"
    made = watch.check_slas(now)
    assert [(m["case_id"], m["kind"]) for m in made] == [(late, "sla.acknowledge.breached")]
    assert made[0]["message"] == (
        f"Case {late} (critical) breached its time to acknowledge: due 2026-01-01 12:15 UTC — "
        "Ransomware on FS1")
    assert watch.check_slas(now + timedelta(minutes=1)) == [], "exactly once"
    later = watch.check_slas(T0 + timedelta(hours=5))
    assert [(m["case_id"], m["kind"]) for m in later] == [
        (late, "sla.contain.breached"), (risky, "sla.acknowledge.breached")]
    cases.update("alice", calm, {"status": "resolved"})
    assert [(n["case_id"], n["kind"]) for n in for_role(state_db, "responder")] == [
        (risky, "sla.acknowledge.breached"), (late, "sla.contain.breached"),
        (late, "sla.acknowledge.breached")], "newest first"
    month = watch.check_slas(T0 + timedelta(days=30))
    assert [(m["case_id"], m["kind"]) for m in month] == [
        (late, "sla.resolve.breached"), (risky, "sla.contain.breached"),
        (risky, "sla.resolve.breached")], "a resolved case is not escalated"
    assert for_role(state_db, "analyst") == []
    with state_db.read() as session:
        audited = session.execute(select(AuditEntry.object_id).where(
            AuditEntry.action == "case.sla_breach").order_by(AuditEntry.id)).scalars().all()
    assert audited == [str(late), str(late), str(risky), str(late), str(risky), str(risky)]


def test_acknowledging_stamps_once(state_db: StateDB) -> None:
    cases = CaseService(state_db, AuditLog(state_db))
    made = cases.create("alice", NewCase(title="x"))
    first = cases.update("alice", made["id"], {"status": "in_progress"})["acknowledged_at"]
    assert first is not None
    cases.update("alice", made["id"], {"status": "contained"})
    assert cases.get(made["id"])["acknowledged_at"] == first
    assert [s["kind"] for s in cases.get(made["id"])["sla"]] == [
        "acknowledge", "contain", "resolve"]


def test_sla_and_notifications_over_the_api(api: Api) -> None:
    analyst, responder = api.bearer("analyst"), api.bearer("responder")
    made = api.client.post("/api/v1/cases", headers=analyst,
                           json={"title": "Old", "severity": "critical"}).json()
    db = api.services.db
    with db.session() as session:
        row = session.get(CaseRow, made["id"])
        assert row is not None
        row.created_at = datetime.now(UTC) - timedelta(hours=2)
    listed = api.client.get("/api/v1/cases/sla", headers=api.bearer("viewer"))
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["cases"]] == [made["id"]]
    assert listed.json()["cases"][0]["sla"][0]["state"] == "breached"
    SlaWatch(api.services.cases).check_slas(datetime.now(UTC))
    mine = api.client.get("/api/v1/notifications", headers=responder).json()
    assert mine["role"] == "responder"
    assert [(n["case_id"], n["kind"]) for n in mine["notifications"]] == [
        (made["id"], "sla.acknowledge.breached")]
    assert api.client.get("/api/v1/notifications", headers=analyst).json()["notifications"] == []


def test_sla_state_on_the_pages(api: Api) -> None:
    made = api.services.cases.create("system", NewCase(title="Late one", severity="critical"))
    with api.services.db.session() as session:
        row = session.get(CaseRow, made["id"])
        assert row is not None
        row.created_at = datetime.now(UTC) - timedelta(hours=3, minutes=30)
    api.login("viewer")
    listed = api.client.get("/cases").text
    assert 'data-sla="acknowledge:breached"' in listed
    assert 'data-sla="contain:at_risk"' in listed
    page = api.client.get(f"/cases/{made['id']}").text
    assert 'data-sla="acknowledge:breached"' in page
    assert 'data-sla="resolve:on_track"' in page

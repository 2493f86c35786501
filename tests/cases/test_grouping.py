"""Grouping: alerts sharing an entity within the window become one incident, its tactics in
kill-chain order; the service opens one case per cluster and is idempotent."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.alerts.helpers import T0
from tests.serverfixtures import ROOT, Api
from watchkeeper.alerts.model import AlertRow
from watchkeeper.api.case_evidence import grouping_of
from watchkeeper.audit.service import AuditLog
from watchkeeper.cases.grouping import GroupAlert, GroupingService, cluster, killchain
from watchkeeper.cases.model import CaseRow
from watchkeeper.cases.service import CaseService, NewCase
from watchkeeper.state.db import StateDB

HOUR = timedelta(hours=1)
WINDOWS = (ROOT / "examples" / "logs" / "windows" / "sysmon-and-security.jsonl").read_bytes()


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def alert(id_: int, minutes: float, tactics: tuple[str, ...] = (), level: str = "medium",
          span: float = 0, **entities: str) -> GroupAlert:
    return GroupAlert(id_, at(minutes), at(minutes + span), entities, tactics, level)


def test_alerts_sharing_an_entity_within_the_window_cluster() -> None:
    alerts = [
        alert(1, 0, ("execution",), host="WS1"),
        alert(2, 30, ("initial-access",), "high", user="bob", host="ws1"),
        alert(3, 50, ("lateral-movement",), "critical", user="BOB", host="ws2"),
        alert(4, 100, ("impact",), source_ip="10.0.0.9", host="ws2"),
        alert(5, 400, (), host="ws2"),          # too late for ws2's chain
        alert(6, 0, (), host="db1", user="SYSTEM"),
        alert(7, 5, (), host="db2", user="system"),  # SYSTEM links nothing
        alert(8, 110, ("exfiltration",), destination_ip="10.0.0.9"),  # IP as destination
    ]
    found = cluster(alerts, HOUR)
    assert [c.alert_ids for c in found] == [(1, 2, 3, 4, 8)]
    only = found[0]
    assert only.tactics == ("initial-access", "execution", "lateral-movement", "exfiltration",
                            "impact")
    assert only.level == "critical"
    assert only.entity in {("host", "ws1"), ("host", "ws2"), ("user", "bob")}
    assert (only.first_seen, only.last_seen) == (at(0), at(110))


def test_the_window_counts_from_the_last_match_of_a_long_alert() -> None:
    long_one = alert(1, 0, span=120, host="ws1")
    later = alert(2, 170, host="ws1")
    assert [c.alert_ids for c in cluster([long_one, later], HOUR)] == [(1, 2)]
    assert cluster([long_one, alert(2, 181, host="ws1")], HOUR) == []
    assert cluster([alert(1, 0, host="a"), alert(2, 1, host="b")], HOUR) == []


def test_kill_chain_order_then_first_appearance() -> None:
    chain = killchain([
        alert(1, 10, ("impact", "Credential_Access")),
        alert(2, 0, ("made-up", "discovery")),
        alert(3, 5, ("credential-access", "reconnaissance", "other")),
    ])
    assert [(s["tactic"], s["first_seen"], s["alert_ids"]) for s in chain] == [
        ("reconnaissance", at(5), [3]),
        ("credential-access", at(5), [3, 1]),
        ("discovery", at(0), [2]),
        ("impact", at(10), [1]),
        ("made-up", at(0), [2]),
        ("other", at(5), [3]),
    ]
    assert chain[0]["stage"] == 0
    assert chain[-1]["stage"] is None


def _insert(db: StateDB, *alerts: tuple[int, float, str, tuple[str, ...], dict[str, str]],
            ) -> None:
    with db.session() as session:
        for id_, minutes, level, tactics, entities in alerts:
            session.add(AlertRow(
                id=id_, rule_id=f"rule-{id_}", rule_title=f"Rule {id_}", level=level,
                tags=[], tactics=list(tactics), group_key="k" * 64, entities=entities,
                host=entities.get("host"), risk_score=50, status="new",
                first_seen=at(minutes), last_seen=at(minutes), count=1,
                first_event_id=f"e{id_}", first_ingested=at(minutes)))


def test_the_service_opens_one_case_and_is_idempotent(state_db: StateDB) -> None:
    _insert(state_db,
            (1, 0, "medium", ("execution",), {"host": "ws1"}),
            (2, 20, "high", ("initial-access",), {"host": "ws1", "user": "bob"}),
            (3, 40, "low", ("credential-access",), {"user": "bob"}),
            (4, 30, "critical", (), {"host": "lonely"}))
    audit = AuditLog(state_db)
    cases = CaseService(state_db, audit)
    grouping = GroupingService(state_db, cases, 3600)
    done = grouping.group_open_alerts(at(60))
    assert [(d["created"], d["alert_ids"]) for d in done] == [(True, (1, 2, 3))]
    case = cases.get(done[0]["case_id"])
    assert case["title"] in ("Multi-stage activity on ws1", "Multi-stage activity on bob")
    assert case["severity"] == "high"
    assert case["tags"] == ["initial-access", "execution", "credential-access"]
    assert case["created_by"] == "system"
    assert grouping.group_open_alerts(at(61)) == []
    with state_db.read() as session:
        assert len(session.execute(select(CaseRow)).scalars().all()) == 1
    steps = grouping.killchain(case["id"])
    assert [(s["tactic"], s["alert_ids"]) for s in steps] == [
        ("initial-access", [2]), ("execution", [1]), ("credential-access", [3])]


def test_new_alerts_join_the_open_case_that_shares_their_entity(state_db: StateDB) -> None:
    _insert(state_db, (1, 0, "medium", (), {"host": "ws1"}))
    cases = CaseService(state_db, AuditLog(state_db))
    held = cases.create("alice", NewCase(title="Something on ws1"), (1,))
    _insert(state_db, (2, 30, "high", ("impact",), {"host": "WS1"}),
            (3, 35, "low", (), {"host": "elsewhere"}))
    grouping = GroupingService(state_db, cases, 3600)
    done = grouping.group_open_alerts(at(60))
    assert done == [{"case_id": held["id"], "created": False, "alert_ids": (2,)}]
    assert cases.get(held["id"])["alert_ids"] == [1, 2]
    assert grouping.group_open_alerts(at(61)) == []
    cases.update("alice", held["id"], {"status": "resolved"})
    _insert(state_db, (4, 50, "high", (), {"host": "ws1"}))
    assert grouping.group_open_alerts(at(70)) == [], "a resolved case takes no more alerts"


def test_old_alerts_are_left_alone(state_db: StateDB) -> None:
    _insert(state_db, (1, 0, "medium", (), {"host": "ws1"}),
            (2, 5, "medium", (), {"host": "ws1"}))
    grouping = GroupingService(state_db, CaseService(state_db, AuditLog(state_db)), 3600)
    assert grouping.group_open_alerts(at(0) + timedelta(days=2)) == []


@pytest.mark.parametrize("window_s", [60, 3600])
def test_the_window_is_configurable(window_s: int) -> None:
    alerts = [alert(1, 0, host="ws1"), alert(2, 30, host="ws1")]
    expected = [(1, 2)] if window_s >= 1800 else []
    assert [c.alert_ids for c in cluster(alerts, timedelta(seconds=window_s))] == expected


def test_ingested_alerts_become_one_incident(api: Api) -> None:
    api.ingest(WINDOWS, "winlog-json")
    alerts = api.client.get("/api/v1/alerts", headers=api.bearer("viewer")).json()["alerts"]
    assert len(alerts) == 3
    alerts.sort(key=lambda a: a["first_seen"])
    # all three share the user alice, the first two also a host; the last comes 75
    # minutes after the second
    now = datetime.fromisoformat(alerts[-1]["last_seen"])
    grouping = grouping_of(api.services)
    done = grouping.group_open_alerts(now)
    first_two = tuple(sorted(a["id"] for a in alerts[:2]))
    assert [(d["created"], d["alert_ids"]) for d in done] == [(True, first_two)]
    case_id = done[0]["case_id"]
    case = api.client.get(f"/api/v1/cases/{case_id}", headers=api.bearer("viewer")).json()
    assert case["title"] == "Multi-stage activity on ws-fin-07.corp.example"
    assert case["created_by"] == "system"
    chain = api.client.get(f"/api/v1/cases/{case_id}/killchain",
                           headers=api.bearer("viewer")).json()["tactics"]
    assert [s["tactic"] for s in chain] == case["tags"]
    observed = api.client.get(f"/api/v1/cases/{case_id}/observables",
                              headers=api.bearer("viewer")).json()["observables"]
    assert ("user", "alice") in {(o["kind"], o["value"]) for o in observed}
    assert grouping.group_open_alerts(now) == []

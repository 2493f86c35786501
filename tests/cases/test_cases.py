"""Cases: promoted from alerts, merged, worked along the workflow, read back as a timeline."""

from __future__ import annotations

import pytest

from tests.alerts.helpers import make_rule, matches
from watchkeeper.alerts.service import AlertFilter, AlertService
from watchkeeper.alerts.writer import AlertWriter, Grouping
from watchkeeper.audit.service import AuditLog
from watchkeeper.auth.principal import SYSTEM
from watchkeeper.auth.service import AuthService
from watchkeeper.cases.service import CaseService, NewCase
from watchkeeper.errors import ConflictError, NotFoundError, UsageError
from watchkeeper.state.db import StateDB


@pytest.fixture
def world(state_db: StateDB) -> tuple[CaseService, list[int]]:
    rules = [make_rule("r-1", "high"), make_rule("r-2", "critical")]
    rows: list[dict[str, object]] = [
        {"id": "e1", "host": "WS1", "rule": 0, "minutes": 0},
        {"id": "e2", "host": "WS1", "rule": 1, "minutes": 5},
        {"id": "e3", "host": "DC1", "rule": 0, "minutes": 9},
    ]
    with state_db.session() as session:
        AlertWriter().record(session, matches(rows), rules, lambda rule: Grouping())
    alerts, _ = AlertService(state_db, AuditLog(state_db)).list(AlertFilter(sort="first_seen"))
    AuthService(state_db, AuditLog(state_db)).create_user(SYSTEM, "bob", "analyst", None)
    ids = sorted(a["id"] for a in alerts)
    return CaseService(state_db, AuditLog(state_db)), ids


def test_an_alert_promoted_to_a_case(world: tuple[CaseService, list[int]]) -> None:
    cases, ids = world
    critical = ids[1]  # the second match: rule r-2, critical
    case = cases.promote("alice", critical)
    assert case["severity"] == "critical"
    assert case["priority"] == "P1"
    assert case["status"] == "new"
    assert case["created_by"] == "alice"
    assert case["alert_ids"] == [critical]
    assert "WS1" in case["title"]
    assert cases.case_of_alert(critical) == case["id"]
    with pytest.raises(ConflictError, match=f"alert {critical} is in case {case['id']}"):
        cases.promote("alice", critical)
    with pytest.raises(NotFoundError):
        cases.promote("alice", 999_999)


def test_alerts_merge_into_a_case_once(world: tuple[CaseService, list[int]]) -> None:
    cases, ids = world
    case = cases.create("alice", NewCase(title="Intrusion on WS1", severity="high"), (ids[0],))
    merged = cases.add_alerts("alice", case["id"], (ids[1], ids[2]))
    assert merged["alert_ids"] == sorted(ids)
    other = cases.create("alice", NewCase(title="other"))
    with pytest.raises(ConflictError):
        cases.add_alerts("alice", other["id"], (ids[2],))
    assert cases.get(other["id"])["alert_ids"] == [], "a refused merge adds nothing"


def test_the_workflow_refuses_skips_and_stamps_times(
    world: tuple[CaseService, list[int]],
) -> None:
    cases, _ = world
    case = cases.create("alice", NewCase(title="Phishing", severity="medium"))
    with pytest.raises(ConflictError, match="may go to in_progress, contained, resolved"):
        cases.update("alice", case["id"], {"status": "closed"})
    cases.update("alice", case["id"], {"status": "in_progress", "assignee": "bob"})
    contained = cases.update("alice", case["id"], {"status": "contained"})
    assert contained["contained_at"] is not None
    assert contained["resolved_at"] is None
    resolved = cases.update("alice", case["id"], {"status": "resolved"})
    closed = cases.update("alice", case["id"], {"status": "closed"})
    assert resolved["resolved_at"] is not None
    assert closed["closed_at"] is not None
    assert closed["assignee"] == "bob"
    with pytest.raises(UsageError, match="unknown severity 'huge'"):
        cases.update("alice", case["id"], {"severity": "huge"})
    with pytest.raises(UsageError, match="cannot change id"):
        cases.update("alice", case["id"], {"id": 5})


def test_tasks_comments_mentions_and_the_timeline(world: tuple[CaseService, list[int]]) -> None:
    cases, ids = world
    case = cases.promote("alice", ids[0])
    task = cases.add_task("alice", case["id"], "Isolate WS1", assignee="bob")
    assert task["status"] == "open"
    done = cases.set_task("bob", case["id"], task["id"], "done")
    assert done["done_at"] is not None
    note = cases.comment("alice", case["id"], "@Bob please check, cc @nobody")
    assert note["mentions"] == ["bob"], "only existing users are mentioned"
    reply = cases.comment("bob", case["id"], "done", parent_id=note["id"])
    assert reply["parent_id"] == note["id"]
    cases.update("alice", case["id"], {"status": "in_progress"})
    with pytest.raises(NotFoundError):
        cases.set_task("bob", case["id"], 999_999, "done")
    with pytest.raises(UsageError):
        cases.comment("bob", case["id"], "   ")
    kinds = [item["kind"] for item in cases.timeline(case["id"])]
    assert kinds[0] in ("alert", "event"), "the attack's first event comes before the case"
    assert kinds.count("event") == 1, "the alert's matching event is on the timeline"
    assert kinds.index("event") < kinds.index("created")
    assert kinds.count("comment") == 2
    for kind in ("created", "case.add_task", "case.set_task", "task.done", "case.update"):
        assert kind in kinds
    change = next(i for i in cases.timeline(case["id"]) if i["kind"] == "case.update")
    assert change["text"] == "status: new → in_progress"
    assert change["who"] == "alice"
    full = cases.get(case["id"])
    assert [t["title"] for t in full["tasks"]] == ["Isolate WS1"]
    assert len(full["comments"]) == 2
    assert full["alerts"][0]["id"] == ids[0]


def test_listing_and_bad_input(world: tuple[CaseService, list[int]]) -> None:
    cases, _ = world
    first = cases.create("alice", NewCase(title="one", severity="low"))
    cases.create("alice", NewCase(title="two", severity="high", assignee="bob"))
    cases.update("alice", first["id"], {"status": "resolved"})
    assert cases.find(("resolved",))[1] == 1
    assert [c["title"] for c in cases.find(assignee="bob")[0]] == ["two"]
    with pytest.raises(UsageError, match="unknown status"):
        cases.find(("done",))
    with pytest.raises(UsageError, match="needs a title"):
        cases.create("alice", NewCase(title=" "))
    with pytest.raises(UsageError, match="unknown TLP"):
        cases.create("alice", NewCase(title="x", tlp="purple"))


def test_a_reopened_case_is_no_longer_resolved(world: tuple[CaseService, list[int]]) -> None:
    cases, _ = world
    case = cases.create("alice", NewCase(title="Back again"))
    cases.update("alice", case["id"], {"status": "resolved"})
    cases.update("alice", case["id"], {"status": "closed"})
    reopened = cases.update("alice", case["id"], {"status": "in_progress"})
    assert reopened["resolved_at"] is None
    assert reopened["closed_at"] is None
    sla = cases.get(case["id"])["sla"]
    assert [s["state"] for s in sla if s["kind"] == "resolve"] == ["on_track"]

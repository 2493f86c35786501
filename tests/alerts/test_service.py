"""The alert queue and the lifecycle: who did what and when, on the alert and in the audit."""

from __future__ import annotations

import pytest

from tests.alerts.helpers import make_rule, matches
from watchkeeper.alerts.service import AlertFilter, AlertService
from watchkeeper.alerts.writer import AlertWriter, Grouping
from watchkeeper.audit.service import AuditLog
from watchkeeper.errors import ConflictError, NotFoundError, UsageError
from watchkeeper.state.db import StateDB


@pytest.fixture
def service(state_db: StateDB) -> AlertService:
    rules = [make_rule("r-1", "high"), make_rule("r-2", "low")]
    rows: list[dict[str, object]] = [
        {"id": "e1", "host": "WS1", "rule": 1, "minutes": 0},
        {"id": "e2", "host": "DC1", "rule": 0, "criticality": "critical", "minutes": 1},
        {"id": "e3", "host": "WS2", "rule": 0, "minutes": 2},
    ]
    with state_db.session() as session:
        AlertWriter().record(session, matches(rows), rules, lambda rule: Grouping())
    return AlertService(state_db, AuditLog(state_db))


def test_the_queue_sorts_by_risk(service: AlertService) -> None:
    found, total = service.list(AlertFilter())
    assert total == 3
    assert [a["entities"]["host"] for a in found] == ["DC1", "WS2", "WS1"]
    assert found[0]["risk_score"] > found[1]["risk_score"] > found[2]["risk_score"]


def test_filters(service: AlertService) -> None:
    assert service.list(AlertFilter(host="dc1"))[1] == 1
    assert service.list(AlertFilter(level=("low",)))[0][0]["entities"]["host"] == "WS1"
    assert service.list(AlertFilter(min_risk=80))[1] == 1
    page, total = service.list(AlertFilter(limit=1, offset=1))
    assert (len(page), total) == (1, 3)


def test_bad_filters_are_refused(service: AlertService) -> None:
    with pytest.raises(UsageError, match="unknown status"):
        service.list(AlertFilter(status=("open-ish",)))
    with pytest.raises(UsageError, match="unknown sort"):
        service.list(AlertFilter(sort="id; drop table alerts"))
    with pytest.raises(UsageError, match="limit"):
        service.list(AlertFilter(limit=0))


def test_lifecycle_records_who_and_when(service: AlertService) -> None:
    alert_id = service.list(AlertFilter())[0][0]["id"]
    acked = service.acknowledge(alert_id, "alice", "looking")
    assert (acked["status"], acked["acknowledged_by"], acked["note"]) == ("acknowledged", "alice",
                                                                           "looking")
    closed = service.close(alert_id, "bob", "false_positive", "backup job")
    assert (closed["status"], closed["verdict"], closed["closed_by"]) == ("closed",
                                                                           "false_positive", "bob")
    assert closed["acknowledged_by"] == "alice"
    reopened = service.reopen(alert_id, "carol")
    assert (reopened["status"], reopened["verdict"]) == ("acknowledged", None)
    entries = service.audit.entries(object_type="alert", object_id=alert_id)
    assert [(e.actor, e.action) for e in reversed(entries)] == [
        ("alice", "alert.acknowledge"), ("bob", "alert.close"), ("carol", "alert.reopen")]
    assert entries[1].before == {"status": "acknowledged", "verdict": None,
                                 "acknowledged_by": "alice", "closed_by": None, "note": "looking"}
    assert service.audit.verify().ok


def test_refused_transitions(service: AlertService) -> None:
    alert_id = service.list(AlertFilter())[0][0]["id"]
    with pytest.raises(ConflictError):
        service.reopen(alert_id, "alice")
    with pytest.raises(UsageError, match="unknown verdict"):
        service.close(alert_id, "alice", "maybe")
    service.close(alert_id, "alice", "true_positive")
    with pytest.raises(ConflictError):
        service.acknowledge(alert_id, "alice")
    with pytest.raises(ConflictError):
        service.close(alert_id, "alice", "benign")
    with pytest.raises(NotFoundError):
        service.acknowledge(99999, "alice")


def test_an_alert_lists_its_events(service: AlertService) -> None:
    alert_id = service.list(AlertFilter(host="DC1"))[0][0]["id"]
    assert service.get(alert_id)["event_ids"] == ["e2"]

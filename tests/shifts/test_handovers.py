"""Generating, storing and acknowledging handovers, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from watchkeeper.alerts.model import AlertRow
from watchkeeper.audit.service import AuditLog
from watchkeeper.cases.service import CaseService, NewCase
from watchkeeper.errors import ConflictError, NotFoundError
from watchkeeper.shifts.service import HandoverFilter, ShiftService
from watchkeeper.state.db import StateDB

NOW = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)  # a Tuesday, in the night shift
NIGHT_START = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
ROSTER = [
    {"name": "day", "start": "08:00", "end": "20:00", "members": ["dana"]},
    {"name": "night", "start": "20:00", "end": "08:00", "members": ["nick"]},
]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def alert(n: int, level: str, risk: int, created: datetime, status: str = "new",
          title: str = "Rule") -> AlertRow:
    return AlertRow(
        rule_id=f"r{n}", rule_title=title, level=level, group_key="g" * 64, host=f"host-{n}",
        risk_score=risk, status=status, first_seen=created, last_seen=created,
        first_event_id=f"e{n}", first_ingested=created, created_at=created,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def shifts(state_db: StateDB, clock: Clock) -> ShiftService:
    audit = AuditLog(state_db, clock=clock)
    service = ShiftService(state_db, audit, clock=clock)
    clock.now = NIGHT_START - timedelta(hours=1)
    service.set_roster("admin", ROSTER)
    clock.now = NOW
    return service


def seed(db: StateDB, clock: Clock, shifts: ShiftService) -> None:
    with db.session() as session:
        session.add_all([
            alert(1, "critical", 95, NIGHT_START + timedelta(hours=1), title="<script>x</script>"),
            alert(2, "high", 70, NIGHT_START + timedelta(hours=2), status="acknowledged"),
            alert(3, "medium", 45, NIGHT_START + timedelta(hours=3)),
            alert(4, "high", 88, NIGHT_START - timedelta(hours=3)),  # before the window
            alert(5, "low", 20, NIGHT_START, status="closed"),
        ])
    moments = iter([NIGHT_START + timedelta(minutes=m) for m in (10, 20, 30, 40)])
    clock.now = next(moments)
    with db.session() as session:
        shifts.audit.append(session, "ann", "rule.update", "rule", "r-1", None,
                            {"enabled": False, "group_by": None, "window_s": None})
    clock.now = next(moments)
    with db.session() as session:
        shifts.audit.append(session, "ann", "exception.create", "exception", "7", None,
                            {"reason": "backup server"})
        shifts.audit.append(session, "ann", "alert.acknowledge", "alert", "2", None, None)
    clock.now = next(moments)
    with db.session() as session:
        shifts.audit.append(session, "ben", "exception.delete", "exception", "7",
                            {"reason": "backup server"}, None)
    clock.now = NOW


def test_generation_reports_the_window_since_the_shift_start(
    state_db: StateDB, clock: Clock, shifts: ShiftService
) -> None:
    seed(state_db, clock, shifts)
    made = shifts.generate("nick")
    content = made["content"]
    assert (made["shift"], made["period_start"], made["period_end"]) == ("night", NIGHT_START, NOW)
    assert content["alerts"] == {
        "open": {"new": 3, "acknowledged": 1},
        "new_high_total": 2,
        "new_high": [
            {"id": 1, "level": "critical", "rule_title": "<script>x</script>", "host": "host-1",
             "risk_score": 95, "status": "new", "created_at": "2026-11-23T21:00:00.000000+00:00"},
            {"id": 2, "level": "high", "rule_title": "Rule", "host": "host-2", "risk_score": 70,
             "status": "acknowledged", "created_at": "2026-11-23T22:00:00.000000+00:00"},
        ],
    }
    assert [(c["actor"], c["summary"]) for c in content["changes"]] == [
        ("ann", "rule r-1 disabled"),
        ("ann", "exception 7 added: backup server"),
        ("ben", "exception 7 removed: backup server"),
    ]
    assert content["incidents"] == {"items": [], "source": "cases"}
    assert content["tasks"] == {"items": [], "source": "approvals and cases"}
    assert content["containment"] == {"items": [], "source": "playbooks"}
    assert content["members"] == ["nick"]
    md = made["markdown"]
    assert "- \\#1 \\[critical\\] \\<script\\>x\\</script\\> on host-1 (risk 95, new)" \
        .replace("(", "\\(").replace(")", "\\)") in md
    assert "<script>" not in md
    assert "## Open incidents\n\nNone recorded." in md
    assert "## Pending approvals and tasks\n\nNone recorded." in md
    actions = [e.action for e in shifts.audit.entries(object_type="handover")]
    assert actions == ["handover.create"]


def test_the_next_handover_starts_where_the_last_ended(
    clock: Clock, shifts: ShiftService
) -> None:
    first = shifts.generate("nick")
    clock.now = NOW + timedelta(hours=12)
    second = shifts.generate("dana")
    assert (second["shift"], second["period_start"]) == ("day", first["period_end"])
    assert second["content"]["changes"] == []


def test_a_named_shift_and_an_unknown_one(shifts: ShiftService) -> None:
    made = shifts.generate("dana", "day")
    assert (made["shift"], made["period_start"]) == ("day", NOW.replace(day=23, hour=8, minute=0))
    with pytest.raises(NotFoundError, match="no shift 'swing'"):
        shifts.generate("dana", "swing")


def test_acknowledged_once_by_someone_else(shifts: ShiftService) -> None:
    made = shifts.generate("nick")
    with pytest.raises(ConflictError, match="not its author"):
        shifts.acknowledge(made["id"], "nick")
    done = shifts.acknowledge(made["id"], "dana")
    assert (done["acknowledged_by"], done["acknowledged_at"]) == ("dana", NOW)
    with pytest.raises(ConflictError, match="acknowledged by dana already"):
        shifts.acknowledge(made["id"], "dave")
    with pytest.raises(NotFoundError):
        shifts.acknowledge(999, "dana")
    [entry] = shifts.audit.entries(object_type="handover", object_id=made["id"], actor="dana")
    assert entry.action == "handover.acknowledge"
    assert entry.after == {"acknowledged_by": "dana",
                           "acknowledged_at": "2026-11-24T07:30:00.000000+00:00"}


def test_roster_changes_are_audited(shifts: ShiftService) -> None:
    [entry] = shifts.audit.entries(object_type="roster")
    assert entry.action == "roster.update"
    assert entry.before == {"shifts": []}
    after: Any = entry.after
    assert [s["name"] for s in after["shifts"]] == ["day", "night"]
    assert [s.name for s in shifts.roster()] == ["day", "night"]


def test_search_by_text_and_time(clock: Clock, shifts: ShiftService) -> None:
    shifts.generate("nick")
    clock.now = NOW + timedelta(hours=12)
    shifts.generate("dana")
    found, total = shifts.list(HandoverFilter(q="DANA"))
    assert (total, [h["author"] for h in found]) == (1, ["dana"])
    found, total = shifts.list(HandoverFilter(since=NOW + timedelta(hours=1)))
    assert [h["shift"] for h in found] == ["day"]
    found, total = shifts.list(HandoverFilter(q="100%"))
    assert total == 0
    found, total = shifts.list(HandoverFilter())
    assert [h["author"] for h in found] == ["dana", "nick"]
    latest = shifts.latest()
    assert latest is not None
    assert latest["author"] == "dana"


def test_open_cases_and_their_tasks_are_handed_over(
    state_db: StateDB, clock: Clock, shifts: ShiftService
) -> None:
    seed(state_db, clock, shifts)
    cases = CaseService(state_db, AuditLog(state_db))
    open_case = cases.create("ann", NewCase(title="Ransomware on host-1", severity="critical",
                                            assignee="nick"))
    cases.add_task("ann", open_case["id"], "Isolate host-1", assignee="ben")
    done = cases.add_task("ann", open_case["id"], "Collect memory")
    cases.set_task("ann", open_case["id"], done["id"], "done")
    closed = cases.create("ann", NewCase(title="Old phishing"))
    cases.add_task("ann", closed["id"], "Never mind")
    cases.update("ann", closed["id"], {"status": "resolved"})
    content = shifts.generate("nick")["content"]
    assert [i["title"] for i in content["incidents"]["items"]] == [
        f"case {open_case['id']} [critical, new] Ransomware on host-1 (assigned to nick)"]
    assert [t["title"] for t in content["tasks"]["items"]] == [
        f"case {open_case['id']}: Isolate host-1 (ben)"]
    markdown = shifts.generate("nick")["markdown"]
    assert "Ransomware on host-1" in markdown
    assert "Collect memory" not in markdown, "done tasks are not handed over"
    assert "Old phishing" not in markdown, "resolved cases are not handed over"


def test_slas_breached_or_due_soon_are_handed_over(
    state_db: StateDB, clock: Clock, shifts: ShiftService
) -> None:
    cases = CaseService(state_db, AuditLog(state_db))
    case = cases.create("ann", NewCase(title="Ransomware", severity="critical"))
    later = ShiftService(state_db, AuditLog(state_db), sla=shifts.sla,
                         clock=lambda: datetime.now(UTC) + timedelta(minutes=20))
    items = later.generate("nick")["content"]["slas"]["items"]
    kinds = [(i["case_id"], i["kind"], i["state"]) for i in items]
    assert (case["id"], "acknowledge", "breached") in kinds, "15 minutes for a critical case"
    assert all(i["state"] in ("breached", "at_risk") for i in items)
    assert "time to acknowledge breached" in later.generate("nick")["markdown"]


def test_search_finds_text_with_punctuation(
    state_db: StateDB, clock: Clock, shifts: ShiftService
) -> None:
    with state_db.session() as session:
        session.add(alert(9, "critical", 90, NOW - timedelta(hours=1),
                          title="Mimikatz_dump (lsass)"))
    shifts.generate("nick")
    found, total = shifts.list(HandoverFilter(q="mimikatz_dump (lsass"))
    assert total == 1
    assert found[0]["author"] == "nick"
    assert shifts.list(HandoverFilter(q="mimikatz%dump"))[1] == 0, "% is no wildcard"

"""Runs on a real state database: approvals, containment with its undo, restarts, retries,
failures that end a run instead of leaving it stuck."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.response.fakes import Remote, registry
from tests.response.runworld import World, make_world, person
from watchkeeper.audit.model import AuditEntry
from watchkeeper.auth.roles import Role
from watchkeeper.cases.model import CaseRow
from watchkeeper.cases.service import NewCase
from watchkeeper.errors import ConflictError, PermissionDenied, UsageError
from watchkeeper.response.actions.base import ActionFailed
from watchkeeper.response.loader import PlaybookError, load_text
from watchkeeper.response.metrics import playbook_metrics
from watchkeeper.response.run_model import PlaybookRunRow, PlaybookStepRow
from watchkeeper.response.runs import Start
from watchkeeper.response.timeline import case_items
from watchkeeper.shifts.snapshot import gather
from watchkeeper.state.db import StateDB

ALERT = {"alert": {"id": 7, "level": "high", "entities": {"host": "dc01",
                                                           "source_ip": "203.0.113.7"}}}


@pytest.fixture
def world(state_db: StateDB) -> World:
    return make_world(state_db)


def start(world: World, actor: str = "carol", trigger: dict[str, Any] | None = None) -> int:
    run = world.runs.start(Start("contain-source", actor, "manual", trigger or ALERT, {}))
    assert run is not None
    return int(run["id"])


def approve_twice(world: World, run_id: int) -> None:
    pending = world.desks.approvals.find(run_id=run_id)
    assert len(pending) == 1
    approval = pending[0]
    assert approval["prompt"] == "Block 203.0.113.7 seen on dc01?"
    world.desks.approvals.decide(person("ann", Role.RESPONDER), approval["id"], "approve", "",
                                 world.clock())
    assert world.desks.approvals.get(approval["id"])["status"] == "pending"
    world.desks.approvals.decide(person("ben", Role.ADMIN), approval["id"], "approve", "ok",
                                 world.clock())


def audit_actions(db: StateDB) -> list[str]:
    with db.read() as session:
        return list(session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())


def test_a_run_waits_for_four_eyes_then_blocks_records_the_undo_and_opens_a_case(
        world: World) -> None:
    run_id = start(world)
    run = world.runs.advance(run_id)
    assert run is not None
    assert run["status"] == "waiting"
    assert run["waiting_for"] == "approval at approve"
    assert world.remote.names() == ["fake.lookup"]
    approve_twice(world, run_id)
    run = world.runs.advance(run_id)
    assert run is not None
    assert run["status"] == "succeeded", run["error"]
    assert run["outputs"] == {"blocked": "203.0.113.7"}
    assert run["path"] == ["lookup", "approve", "block", "open", "followup"]
    assert world.remote.names() == ["fake.lookup", "fake.block_ip"]
    _, inputs, key = world.remote.calls[1]
    assert inputs == {"ip": "203.0.113.7", "comment": f"run {run_id}"}
    assert key == f"run:{run_id}:block"
    found = world.runs.get(run_id)
    [containment] = found["containments"]
    assert containment["status"] == "active"
    assert containment["undo_action"] == "fake.unblock_ip"
    assert containment["before"] == {"blocked": False}
    assert containment["target"] == "203.0.113.7"
    assert containment["expires_at"] == world.clock() + timedelta(hours=2)
    assert found["case_id"] is not None
    case = world.desks.cases.get(found["case_id"])
    assert case["title"] == "Blocked 203.0.113.7"
    assert [t["title"] for t in case["tasks"]] == ["Check dc01"]
    [approval] = found["approvals"]
    assert approval["status"] == "approved"
    decided = world.desks.approvals.get(approval["id"])["decisions"]
    assert [(d["actor"], d["decision"]) for d in decided] == [("ann", "approve"),
                                                              ("ben", "approve")]
    actions = audit_actions(world.db)
    for expected in ("playbook_run.start", "approval.request", "approval.decide",
                     "playbook_run.act", "containment.apply", "case.create",
                     "playbook_run.finish"):
        assert expected in actions


def test_the_ttl_rolls_the_block_back_once(world: World) -> None:
    run_id = start(world)
    world.runs.advance(run_id)
    approve_twice(world, run_id)
    world.runs.advance(run_id)
    assert world.desks.ledger.expire(world.clock()) == []
    world.clock.advance(hours=2)
    [done] = world.desks.ledger.expire(world.clock())
    assert done["status"] == "rolled_back"
    assert done["rolled_back_by"] == "system:ttl"
    assert world.remote.names()[-1] == "fake.unblock_ip"
    assert world.remote.calls[-1][2] == f"rollback:{done['id']}"
    assert world.remote.blocked == set()
    assert world.desks.ledger.expire(world.clock()) == []
    with pytest.raises(ConflictError, match="rolled_back"):
        world.desks.ledger.rollback("ann", done["id"], world.clock())


def test_a_failed_rollback_is_kept_and_can_be_tried_again(world: World) -> None:
    run_id = start(world)
    world.runs.advance(run_id)
    approve_twice(world, run_id)
    world.runs.advance(run_id)
    [containment] = world.desks.ledger.find()
    world.remote.failures.append(ActionFailed("firewall unreachable"))
    failed = world.desks.ledger.rollback("ann", containment["id"], world.clock(), "case closed")
    assert failed["status"] == "rollback_failed"
    assert "firewall unreachable" in failed["rollback_error"]
    assert world.remote.blocked == {"203.0.113.7"}
    done = world.desks.ledger.rollback("ann", containment["id"], world.clock())
    assert done["status"] == "rolled_back"
    assert done["rolled_back_by"] == "ann"
    assert world.remote.blocked == set()


def test_who_may_approve(world: World) -> None:
    run_id = start(world, actor="carol")
    world.runs.advance(run_id)
    [approval] = world.desks.approvals.find(run_id=run_id)
    now = world.clock()
    with pytest.raises(PermissionDenied, match="role responder"):
        world.desks.approvals.decide(person("vic", Role.VIEWER), approval["id"], "approve",
                                     "", now)
    with pytest.raises(PermissionDenied, match="role responder"):
        world.desks.approvals.decide(person("al", Role.ANALYST), approval["id"], "approve",
                                     "", now)
    with pytest.raises(PermissionDenied, match="four eyes"):
        world.desks.approvals.decide(person("carol", Role.RESPONDER), approval["id"],
                                     "approve", "", now)
    with pytest.raises(UsageError, match="approve or reject"):
        world.desks.approvals.decide(person("ann", Role.RESPONDER), approval["id"], "maybe",
                                     "", now)
    world.desks.approvals.decide(person("ann", Role.RESPONDER), approval["id"], "approve",
                                 "", now)
    with pytest.raises(ConflictError, match="already decided"):
        world.desks.approvals.decide(person("ann", Role.RESPONDER), approval["id"], "approve",
                                     "", now)
    assert world.remote.names() == ["fake.lookup"]


def test_a_rejection_ends_the_run_without_acting(world: World) -> None:
    run_id = start(world)
    world.runs.advance(run_id)
    [approval] = world.desks.approvals.find(run_id=run_id)
    world.desks.approvals.decide(person("ann", Role.RESPONDER), approval["id"], "reject",
                                 "not this one", world.clock())
    run = world.runs.advance(run_id)
    assert run is not None
    assert run["status"] == "rejected"
    assert run["error"] == "rejected by ann"
    assert world.remote.names() == ["fake.lookup"]
    assert world.desks.ledger.find() == []


def test_nobody_deciding_in_time_takes_the_default(world: World) -> None:
    run_id = start(world)
    world.runs.advance(run_id)
    assert world.runs.due() == []
    world.clock.advance(hours=1)
    assert world.runs.due() == [run_id]
    run = world.runs.advance(run_id)
    assert run is not None
    assert run["status"] == "rejected"
    assert run["error"] == "timed out and rejected by default"
    [approval] = world.desks.approvals.find(status=None, run_id=run_id)
    assert approval["status"] == "expired"
    with pytest.raises(ConflictError):
        world.desks.approvals.decide(person("ann", Role.RESPONDER), approval["id"], "approve",
                                     "", world.clock())


def test_a_restart_after_the_block_does_not_block_again(world: World) -> None:
    run_id = start(world)
    world.runs.advance(run_id)
    approve_twice(world, run_id)
    # the process dies after the block is recorded but before the run's end is written:
    # simulate it by putting the run back to waiting, then let a new process pick it up
    world.runs.advance(run_id)
    with world.db.session() as session:
        session.execute(update(PlaybookRunRow)
            .values(status="waiting", wake_at=world.clock(), finished_at=None))
    restarted = world.service()
    assert restarted.due() == [run_id]
    run = restarted.advance(run_id)
    assert run is not None
    assert run["status"] == "succeeded"
    assert world.remote.names() == ["fake.lookup", "fake.block_ip"]
    assert len(world.desks.ledger.find()) == 1


def test_an_action_cut_off_mid_call_is_called_again_under_the_same_key(world: World) -> None:
    run_id = start(world)
    world.runs.advance(run_id)
    approve_twice(world, run_id)
    world.runs.advance(run_id)
    # as if the process had died between calling the firewall and writing the answer
    with world.db.session() as session:
        step = session.execute(select(PlaybookStepRow).where(
            PlaybookStepRow.run_id == run_id, PlaybookStepRow.path == "block")).scalar_one()
        step.status = "started"
        for later in session.execute(select(PlaybookStepRow).where(
                PlaybookStepRow.run_id == run_id,
                PlaybookStepRow.path.in_(["open", "followup"]))).scalars():
            session.delete(later)
        session.execute(update(PlaybookRunRow)
            .values(status="waiting", wake_at=world.clock(), finished_at=None))
    run = world.service().advance(run_id)
    assert run is not None
    assert run["status"] == "succeeded"
    keys = [key for name, _, key in world.remote.calls if name == "fake.block_ip"]
    assert keys == [f"run:{run_id}:block", f"run:{run_id}:block"]
    assert len(world.desks.ledger.find()) == 1


def test_retries_back_off_then_succeed(world: World) -> None:
    run_id = start(world)
    world.runs.advance(run_id)
    approve_twice(world, run_id)
    world.remote.failures.extend([ActionFailed("503"), ActionFailed("503")])
    run = world.runs.advance(run_id)
    assert run is not None
    assert run["status"] == "waiting"
    assert run["waiting_for"] == "retry at block"
    assert run["wake_at"] == world.clock() + timedelta(seconds=10)
    world.clock.advance(seconds=10)
    run = world.runs.advance(run_id)
    assert run is not None
    assert run["wake_at"] == world.clock() + timedelta(seconds=20)
    world.clock.advance(seconds=20)
    run = world.runs.advance(run_id)
    assert run is not None
    assert run["status"] == "succeeded"
    assert world.remote.names().count("fake.block_ip") == 3
    step = next(s for s in world.runs.get(run_id)["steps"] if s["path"] == "block")
    assert step["attempts"] == 3


def test_a_refusal_that_will_not_change_is_not_retried(world: World) -> None:
    run_id = start(world)
    world.runs.advance(run_id)
    approve_twice(world, run_id)
    world.remote.failures.append(ActionFailed("400 bad request", retryable=False))
    run = world.runs.advance(run_id)
    assert run is not None
    assert run["status"] == "failed"
    assert run["error_step"] == "block"
    assert "400 bad request" in run["error"]
    assert world.remote.names().count("fake.block_ip") == 1


BROKEN = """
name: broken
title: An action with a bug
steps:
  - id: one
    action: fake.broken
    with: {host: x}
"""


def test_a_bug_in_an_action_fails_the_run_instead_of_leaving_it_stuck(
        state_db: StateDB) -> None:
    world = make_world(state_db, BROKEN)
    run = world.runs.start(Start("broken", "carol", "manual", {}, {}))
    assert run is not None
    done = world.runs.advance(run["id"])
    assert done is not None
    assert done["status"] == "failed"
    assert "RuntimeError: a bug in an action" in done["error"]
    assert world.runs.due() == []


def test_one_run_per_dedup_key_and_a_cancel(world: World) -> None:
    first = world.runs.start(Start("contain-source", "x", "alert", ALERT, {}, dedup_key="k"))
    again = world.runs.start(Start("contain-source", "x", "alert", ALERT, {}, dedup_key="k"))
    assert first is not None
    assert again is None
    world.runs.advance(first["id"])
    cancelled = world.runs.cancel("ann", first["id"])
    assert cancelled["status"] == "cancelled"
    assert world.desks.approvals.find(run_id=first["id"]) == []
    with pytest.raises(ConflictError):
        world.runs.cancel("ann", first["id"])
    assert world.runs.advance(first["id"]) is None


def test_inputs_are_checked_when_a_run_starts(state_db: StateDB) -> None:
    text = """
name: with-inputs
title: Inputs
inputs:
  ip: {type: string, required: true}
  hours: {type: integer, default: 4}
steps:
  - id: look
    action: fake.lookup
    with: {host: "{{ inputs.ip }}"}
"""
    world = make_world(state_db, text)
    with pytest.raises(UsageError, match=r"inputs\.ip: required"):
        world.runs.start(Start("with-inputs", "x", "manual", {}, {}))
    with pytest.raises(UsageError, match="unknown input colour"):
        world.runs.start(Start("with-inputs", "x", "manual", {}, {"ip": "a", "colour": 1}))
    with pytest.raises(UsageError, match=r"inputs\.hours: expected integer, got str"):
        world.runs.start(Start("with-inputs", "x", "manual", {}, {"ip": "a", "hours": "4"}))
    run = world.runs.start(Start("with-inputs", "x", "manual", {}, {"ip": "10.0.0.1"}))
    assert run is not None
    assert run["inputs"] == {"ip": "10.0.0.1", "hours": 4}


def test_the_handover_lists_pending_approvals_and_containment_in_force(world: World) -> None:
    first = start(world)
    world.runs.advance(first)
    second = start(world)
    world.runs.advance(second)
    approve_twice(world, second)
    world.runs.advance(second)
    with world.db.read() as session:
        content = gather(session, world.clock() - timedelta(hours=8), world.clock())
    [approval] = content["tasks"]["items"][:1]
    assert approval["run_id"] == first
    assert "Block 203.0.113.7 seen on dc01?" in approval["title"]
    assert "(four eyes)" in approval["title"]
    [held] = content["containment"]["items"]
    assert held["title"].startswith("fake.block_ip 203.0.113.7 (case ")
    assert "rolled back automatically at 2026-11-02 11:00 UTC" in held["title"]


def test_the_case_timeline_tells_what_the_playbook_did(world: World) -> None:
    world.desks.cases.timeline_hooks.append(case_items)
    run_id = start(world)
    world.runs.advance(run_id)
    approve_twice(world, run_id)
    world.runs.advance(run_id)
    case_id = world.runs.get(run_id)["case_id"]
    [containment] = world.desks.ledger.find()
    world.clock.advance(minutes=5)
    world.desks.ledger.rollback("ann", containment["id"], world.clock())
    kinds = [(item["kind"], item["text"]) for item in world.desks.cases.timeline(case_id)
             if item["kind"].startswith(("playbook", "approval", "containment"))]
    assert ("containment.apply", "fake.block_ip 203.0.113.7 (undo: fake.unblock_ip)") in kinds
    assert ("containment.rollback", "fake.unblock_ip 203.0.113.7") in kinds
    assert ("playbook.action", "fake.block_ip (block) done") in kinds
    assert "playbook.finish" in [k for k, _ in kinds]
    assert any(k == "approval" and "approved" in t for k, t in kinds)


def test_a_walk_whose_run_was_taken_over_stops_before_writing_anything_more(
        world: World) -> None:
    run_id = start(world)
    world.runs.advance(run_id)
    approve_twice(world, run_id)

    def taken_over() -> None:  # this worker stalled past its lease; another took the run
        with world.db.session() as session:
            session.execute(update(PlaybookRunRow).where(PlaybookRunRow.id == run_id).values(
                lease_owner="other:1", lease_until=world.clock() + timedelta(seconds=30)))

    world.remote.during.append(taken_over)  # inside the block (the lookup ran before)
    assert world.runs.advance(run_id) is None
    found = world.runs.get(run_id)
    assert found["status"] == "running"
    assert {s["path"]: s["status"] for s in found["steps"]}["block"] == "started"
    assert world.desks.ledger.find() == []
    assert "open" not in [s["path"] for s in found["steps"]]
    # the other worker died too: once its lease runs out, the run is walked to its end,
    # the block called again under its key
    world.clock.advance(seconds=31)
    done = world.service().advance(run_id)
    assert done is not None
    assert done["status"] == "succeeded"
    keys = [key for name, _, key in world.remote.calls if name == "fake.block_ip"]
    assert keys == [f"run:{run_id}:block"] * 2
    assert len(world.desks.ledger.find()) == 1


def test_a_cancel_during_a_walk_stops_it_at_the_next_step(world: World) -> None:
    run_id = start(world)
    world.runs.advance(run_id)
    approve_twice(world, run_id)
    world.remote.during.append(lambda: world.runs.cancel("ann", run_id))
    assert world.runs.advance(run_id) is None
    found = world.runs.get(run_id)
    assert found["status"] == "cancelled"
    assert found["case_id"] is None
    assert "open" not in [s["path"] for s in found["steps"]]


def test_an_approval_of_a_cancelled_run_cannot_be_decided(world: World) -> None:
    run_id = start(world)
    world.runs.advance(run_id)
    [approval] = world.desks.approvals.find(run_id=run_id)
    with world.db.session() as session:  # as if cancelled while the approval was asked
        session.execute(update(PlaybookRunRow).where(PlaybookRunRow.id == run_id)
                        .values(status="cancelled"))
    with pytest.raises(ConflictError, match="cancelled: nothing to decide"):
        world.desks.approvals.decide(person("ann", Role.RESPONDER), approval["id"], "approve",
                                     "", world.clock())


def blocked_twice(world: World) -> list[dict[str, Any]]:
    for _ in range(2):
        run_id = start(world)
        world.runs.advance(run_id)
        approve_twice(world, run_id)
        world.runs.advance(run_id)
    held = sorted(world.desks.ledger.find(), key=lambda c: c["id"])
    assert [c["target"] for c in held] == ["203.0.113.7"] * 2
    return held


def test_a_target_held_by_two_entries_is_released_with_the_last(world: World) -> None:
    first, second = blocked_twice(world)
    done = world.desks.ledger.rollback("ann", first["id"], world.clock())
    assert done["status"] == "rolled_back"
    assert world.remote.blocked == {"203.0.113.7"}
    assert "fake.unblock_ip" not in world.remote.names()
    world.desks.ledger.rollback("ann", second["id"], world.clock())
    assert world.remote.blocked == set()
    assert world.remote.names().count("fake.unblock_ip") == 1


def test_a_failed_expiry_is_retried_after_its_back_off_and_a_crashing_undo_is_kept(
        world: World) -> None:
    run_id = start(world)
    world.runs.advance(run_id)
    approve_twice(world, run_id)
    world.runs.advance(run_id)
    world.clock.advance(hours=2)
    world.remote.during.append(lambda: (_ for _ in ()).throw(RuntimeError("driver bug")))
    [failed] = world.desks.ledger.expire(world.clock())
    assert failed["status"] == "rollback_failed"
    assert "RuntimeError: driver bug" in failed["rollback_error"]
    assert failed["rollback_attempts"] == 1
    assert failed["next_try_at"] == world.clock() + timedelta(minutes=1)
    assert world.desks.ledger.expire(world.clock()) == []  # not before the back-off
    world.clock.advance(minutes=1)
    [done] = world.desks.ledger.expire(world.clock())
    assert done["status"] == "rolled_back"
    assert world.remote.blocked == set()


def test_a_template_that_fails_inside_text_fails_its_run_with_the_place(
        state_db: StateDB) -> None:
    text = """
name: sums
title: Adds text to a number
steps:
  - id: look
    action: fake.lookup
    with: {host: "host {{ 1 + 'a' }}"}
"""
    world = make_world(state_db, text)
    run = world.runs.start(Start("sums", "x", "manual", {}, {}))
    assert run is not None
    done = world.runs.advance(run["id"])
    assert done is not None
    assert done["status"] == "failed"
    assert done["error"].startswith("look.with.host: TypeError")
    assert world.remote.calls == []


@pytest.mark.parametrize("ttl", [".inf", ".nan", "-5", "soon"])
def test_durations_must_be_finite_and_positive(ttl: str) -> None:
    text = f"""
name: bad-ttl
title: A TTL that is not one
steps:
  - id: block
    action: fake.block_ip
    connector: edge
    with: {{ip: 192.0.2.1}}
    ttl: {ttl}
"""
    with pytest.raises(PlaybookError, match=r"steps\[0\]\.ttl"):
        load_text(text, "bad.yml", registry(Remote()))


CHILD = """
name: child
title: Called
steps:
  - id: {step}
    action: fake.lookup
    with: {{host: "{host}"}}
"""
PARENT = """
name: parent
title: Calls the child after an approval
steps:
  - id: approve
    approval: {prompt: "go?", approvers: {roles: [responder]}}
  - id: call
    playbook: child
"""


def test_a_called_playbook_runs_at_the_version_pinned_when_the_run_started(
        state_db: StateDB) -> None:
    world = make_world(state_db, CHILD.format(step="first", host="old"), PARENT)
    run = world.runs.start(Start("parent", "carol", "manual", {}, {}))
    assert run is not None
    assert run["pinned"] == {"child": world.library.get("child").version}
    world.runs.advance(run["id"])
    changed = load_text(CHILD.format(step="second", host="new"), "child.yml",
                        registry(world.remote))
    world.library.playbooks["child"] = changed  # the file was edited meanwhile
    [approval] = world.desks.approvals.find(run_id=run["id"])
    world.desks.approvals.decide(person("ann", Role.RESPONDER), approval["id"], "approve",
                                 "", world.clock())
    done = world.runs.advance(run["id"])
    assert done is not None
    assert done["status"] == "succeeded", done["error"]
    assert done["path"] == ["approve", "call", "first"]
    assert [inputs for _, inputs, _ in world.remote.calls] == [{"host": "old"}]
    later = world.runs.start(Start("parent", "carol", "manual", {}, {}))
    assert later is not None
    assert later["pinned"] == {"child": changed.version}


def test_playbook_metrics_count_outcomes_waits_actions_and_compare_mttr(
        world: World) -> None:
    handled = start(world)
    world.runs.advance(handled)
    world.clock.advance(minutes=10)  # the approval waits ten minutes
    approve_twice(world, handled)
    world.runs.advance(handled)
    rejected = start(world)
    world.runs.advance(rejected)
    [approval] = world.desks.approvals.find(run_id=rejected)
    world.desks.approvals.decide(person("ann", Role.RESPONDER), approval["id"], "reject", "",
                                 world.clock())
    world.runs.advance(rejected)
    [held] = world.desks.ledger.find()
    world.desks.ledger.rollback("ann", held["id"], world.clock())
    cases = world.desks.cases
    with_playbook = world.runs.get(handled)["case_id"]
    without = cases.create("ann", NewCase(title="handled by hand", severity="high"))["id"]
    for case_id in (with_playbook, without):
        cases.update("ann", case_id, {"status": "resolved"})
    with world.db.session() as session:  # opened an hour (with) and five hours (without) ago
        for case_id, hours in ((with_playbook, 1), (without, 5)):
            row = session.get(CaseRow, case_id)
            assert row is not None
            assert row.resolved_at is not None
            row.created_at = row.resolved_at - timedelta(hours=hours)
    figures = playbook_metrics(world.db)
    [mine] = figures["playbooks"]
    assert mine["playbook"] == "contain-source"
    assert mine["runs"] == 2
    assert mine["by_status"] == {"succeeded": 1, "rejected": 1}
    assert mine["actions_taken"] == 3  # two look-ups, one block
    assert mine["rolled_back"] == 1
    assert mine["approval_wait_s"] == 600.0
    assert mine["cases_resolved"] == 1
    assert mine["mttr_s"] == 3600.0
    assert figures["without_playbook"] == {"cases_resolved": 1, "mttr_s": 18000.0}

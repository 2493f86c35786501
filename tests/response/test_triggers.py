"""Triggers: new alerts, new cases and cron ticks start the playbooks they match, once."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
from sqlalchemy import select

from tests.alerts.helpers import make_rule, matches
from tests.response.runworld import CONTAIN, T0, World, make_world
from watchkeeper.alerts.model import AlertRow
from watchkeeper.alerts.writer import AlertWriter, Grouping
from watchkeeper.cases.service import NewCase
from watchkeeper.response.model import AlertTrigger, CaseTrigger
from watchkeeper.response.run_model import PlaybookCursorRow
from watchkeeper.response.runs import Start
from watchkeeper.response.triggers import Dispatcher, alert_matches, case_matches
from watchkeeper.state.db import StateDB

SCHEDULED = """
name: every-quarter-hour
title: Scheduled
triggers:
  - schedule: {cron: "*/15 * * * *"}
steps:
  - id: look
    action: fake.lookup
    with: {host: "{{ trigger.schedule.at }}"}
"""
ON_CASES = """
name: on-critical-cases
title: Cases
triggers:
  - case: {severities: [critical]}
steps:
  - id: look
    action: fake.lookup
    with: {host: "case-{{ trigger.case.id }}"}
"""


def add_alerts(db: StateDB, rows: list[dict[str, object]], source_ip: str | None) -> None:
    rules = [make_rule("r-1", "high"), make_rule("r-2", "critical")]
    frame = matches(rows).with_columns(pl.lit(source_ip, pl.String).alias("source.ip"))
    with db.session() as session:
        AlertWriter().record(session, frame, rules, lambda rule: Grouping())


def dispatcher(world: World) -> Dispatcher:
    return Dispatcher(world.db, world.runs, lambda: world.library, lambda loaded: True,
                      world.clock)


def test_alert_conditions() -> None:
    alert = {"rule_id": "abc", "rule_title": "Brute force on SSH", "level": "high",
             "tags": ["attack.credential_access", "attack.t1110"],
             "entities": {"host": "web1", "source_ip": "203.0.113.7"}}
    assert alert_matches(AlertTrigger(), alert)
    assert alert_matches(AlertTrigger(rules=["*brute force*"], levels=["high"],
                                      tags=["attack.t1110*"],
                                      where={"source_ip": "203.0.113.*"}), alert)
    assert not alert_matches(AlertTrigger(levels=["critical"]), alert)
    assert not alert_matches(AlertTrigger(tags=["attack.impact"]), alert)
    assert not alert_matches(AlertTrigger(where={"user": "*"}), alert)
    assert not alert_matches(AlertTrigger(rules=["other"]), alert)
    assert case_matches(CaseTrigger(severities=["high"]), {"severity": "high", "tags": []})
    assert not case_matches(CaseTrigger(template="phishing"), {"severity": "high"})


def test_new_matching_alerts_start_one_run_each_and_history_is_left_alone(
        state_db: StateDB) -> None:
    world = make_world(state_db)
    add_alerts(state_db, [{"id": "old", "host": "dc01", "rule": 0}], "198.51.100.1")
    dispatch = dispatcher(world)
    dispatch.prime()
    with state_db.read() as session:
        primed = session.get(PlaybookCursorRow, "alerts")
        assert primed is not None
        history = primed.last_id
    add_alerts(state_db, [{"id": "e1", "host": "dc01", "rule": 0, "minutes": 1},
                          {"id": "e2", "host": "ws1", "rule": 1, "minutes": 2}], "203.0.113.7")
    add_alerts(state_db, [{"id": "e3", "host": "ws2", "rule": 1, "minutes": 3}], None)
    assert dispatch.dispatch() == 2
    assert dispatch.dispatch() == 0
    runs, total = world.runs.find()
    assert total == 2
    hosts = sorted(r["trigger"]["alert"]["entities"]["host"] for r in runs)
    assert hosts == ["dc01", "ws1"]
    assert all(r["trigger_kind"] == "alert" and r["alert_id"] for r in runs)
    # dispatching the same alerts again (the cursor lost in a crash) starts nothing twice
    with state_db.session() as session:
        cursor = session.get(PlaybookCursorRow, "alerts")
        assert cursor is not None
        cursor.last_id = history
    assert dispatcher(world).dispatch() == 0
    assert world.runs.find()[1] == 2


def test_new_cases_start_the_playbooks_they_match(state_db: StateDB) -> None:
    world = make_world(state_db, ON_CASES)
    dispatch = dispatcher(world)
    dispatch.prime()
    cases = world.desks.cases
    cases.create("ann", NewCase(title="minor", severity="low"))
    critical = cases.create("ann", NewCase(title="major", severity="critical"))
    assert dispatch.dispatch() == 1
    [run] = world.runs.find()[0]
    assert run["case_id"] == critical["id"]
    assert run["trigger"]["case"]["title"] == "major"


def test_a_schedule_fires_once_per_tick_and_does_not_catch_up_on_the_past(
        state_db: StateDB) -> None:
    world = make_world(state_db, SCHEDULED)
    dispatch = dispatcher(world)
    assert dispatch.dispatch() == 0  # the first look sets the start: 09:00
    world.clock.advance(minutes=14)
    assert dispatch.dispatch() == 0
    world.clock.advance(minutes=1)
    assert dispatch.dispatch() == 1
    assert dispatch.dispatch() == 0
    world.clock.advance(minutes=15)
    assert dispatch.dispatch() == 1
    runs, _ = world.runs.find()
    ticks = sorted(r["trigger"]["schedule"]["at"] for r in runs)
    assert ticks == [(T0 + timedelta(minutes=15)).isoformat(),
                     (T0 + timedelta(minutes=30)).isoformat()]


def test_a_template_reading_what_is_not_there_fails_the_run_with_the_place(
        state_db: StateDB) -> None:
    world = make_world(state_db, CONTAIN)
    assert world.runs.start(Start("contain-source", "x", "manual", {}, {})) is not None
    run = world.runs.work()
    assert run == 1
    [failed] = world.runs.find()[0]
    assert failed["status"] == "failed"
    assert failed["error"] == "lookup.with.host: 'dict object' has no attribute 'alert'"
    assert world.runs.due() == []


def test_after_downtime_one_tick_fires_and_an_impossible_date_stops_no_other_schedule(
        state_db: StateDB) -> None:
    never = SCHEDULED.replace("every-quarter-hour", "never").replace(
        "*/15 * * * *", "0 0 30 2 *")
    world = make_world(state_db, never, SCHEDULED)
    dispatch = dispatcher(world)
    assert dispatch.dispatch() == 0
    world.clock.advance(hours=5, minutes=7)  # twenty ticks missed while nothing ran
    assert dispatch.dispatch() == 1
    assert dispatch.dispatch() == 0
    [run] = world.runs.find()[0]
    assert run["playbook"] == "every-quarter-hour"
    assert run["trigger"]["schedule"]["at"] == (T0 + timedelta(hours=5)).isoformat()


def test_an_alert_committed_late_below_the_cursor_is_still_dispatched(
        state_db: StateDB) -> None:
    world = make_world(state_db)
    dispatch = dispatcher(world)
    dispatch.prime()
    add_alerts(state_db, [{"id": "a1", "host": "dc01", "rule": 0, "minutes": 1},
                          {"id": "a2", "host": "dc02", "rule": 0, "minutes": 2}], "203.0.113.7")
    with state_db.session() as session:  # a1's transaction commits after the dispatch
        first = min(session.execute(select(AlertRow.id)).scalars())
        late = session.get(AlertRow, first)
        assert late is not None
        late.level = "low"
    assert dispatch.dispatch() == 1
    with state_db.session() as session:
        late = session.get(AlertRow, first)
        assert late is not None
        late.level = "high"
    assert dispatch.dispatch() == 1
    assert dispatch.dispatch() == 0
    assert world.runs.find()[1] == 2

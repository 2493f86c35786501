"""Matches become alerts once each: grouping windows, replays, risk and entities."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.alerts.helpers import T0, make_rule, matches
from watchkeeper.alerts.model import AlertEventRow, AlertRow
from watchkeeper.alerts.risk import risk_score
from watchkeeper.alerts.writer import AlertWriter, Grouping
from watchkeeper.state.db import StateDB

EACH = Grouping()
BY_HOST = Grouping(("host.name",), timedelta(hours=1))


def record(db: StateDB, rows: list[dict[str, object]], grouping: Grouping = EACH,
           rules: list | None = None):  # type: ignore[type-arg]
    rules = rules or [make_rule()]
    with db.session() as session:
        return AlertWriter().record(session, matches(rows), rules, lambda rule: grouping)


def alerts(db: StateDB) -> list[AlertRow]:
    with db.session() as session:
        return list(session.execute(select(AlertRow).order_by(AlertRow.id)).scalars())


def test_without_grouping_every_event_is_an_alert(state_db: StateDB) -> None:
    stats = record(state_db, [{"id": "e1", "host": "WS1"}, {"id": "e2", "host": "WS1"}])
    assert (stats.created, stats.duplicates) == (2, 0)
    found = alerts(state_db)
    assert [a.first_event_id for a in found] == ["e1", "e2"]
    assert found[0].entities == {"host": "WS1"}
    assert found[0].host == "ws1"
    assert found[0].tactics == ["execution"]
    assert found[0].count == 1


def test_a_replayed_batch_adds_nothing(state_db: StateDB) -> None:
    rows: list[dict[str, object]] = [{"id": "e1", "host": "a"}, {"id": "e2", "host": "b"}]
    record(state_db, rows, BY_HOST)
    again = record(state_db, rows, BY_HOST)
    assert (again.created, again.grouped, again.duplicates) == (0, 0, 2)
    assert sum(a.count for a in alerts(state_db)) == 2
    with state_db.session() as session:
        assert session.execute(select(func.count()).select_from(AlertEventRow)).scalar() == 2


def test_the_same_pair_twice_in_one_batch_counts_once(state_db: StateDB) -> None:
    stats = record(state_db, [{"id": "e1"}, {"id": "e1"}])
    assert stats.created == 1
    assert alerts(state_db)[0].count == 1


def test_grouping_counts_into_one_alert_per_host_and_window(state_db: StateDB) -> None:
    stats = record(state_db, [
        {"id": "e1", "host": "a", "minutes": 0},
        {"id": "e2", "host": "a", "minutes": 30},
        {"id": "e3", "host": "b", "minutes": 31},
        {"id": "e4", "host": "a", "minutes": 61},   # past a's window: a new alert
    ], BY_HOST)
    assert stats.created == 3
    found = {(a.entities["host"], a.first_event_id): a for a in alerts(state_db)}
    assert found[("a", "e1")].count == 2
    assert found[("a", "e1")].last_seen == T0 + timedelta(minutes=30)
    assert found[("b", "e3")].count == 1
    assert found[("a", "e4")].count == 1


def test_a_later_batch_joins_the_open_alert_of_its_group(state_db: StateDB) -> None:
    record(state_db, [{"id": "e1", "host": "a", "minutes": 0}], BY_HOST)
    stats = record(state_db, [{"id": "e2", "host": "a", "minutes": 10},
                              {"id": "e3", "host": "a", "minutes": 70}], BY_HOST)
    assert (stats.created, stats.grouped) == (1, 1)
    first, second = alerts(state_db)
    assert (first.count, first.last_seen) == (2, T0 + timedelta(minutes=10))
    assert (second.count, second.first_event_id) == (1, "e3")


def test_a_closed_alert_takes_no_new_matches(state_db: StateDB) -> None:
    record(state_db, [{"id": "e1", "host": "a"}], BY_HOST)
    with state_db.session() as session:
        session.execute(AlertRow.__table__.update().values(status="closed"))
    stats = record(state_db, [{"id": "e2", "host": "a", "minutes": 5}], BY_HOST)
    assert stats.created == 1
    assert [a.count for a in alerts(state_db)] == [1, 1]


def test_rules_group_separately(state_db: StateDB) -> None:
    rules = [make_rule("r-1"), make_rule("r-2", level="low")]
    record(state_db, [{"id": "e1", "host": "a", "rule": 0}, {"id": "e1", "host": "a", "rule": 1}],
           BY_HOST, rules)
    assert sorted((a.rule_title, a.level) for a in alerts(state_db)) == [
        ("Test rule r-1", "high"), ("Test rule r-2", "low")]


def test_risk_combines_level_and_asset_criticality(state_db: StateDB) -> None:
    record(state_db, [{"id": "e1", "host": "dc1", "criticality": "critical"},
                      {"id": "e2", "host": "kiosk", "criticality": "low"},
                      {"id": "e3", "host": "unknown"}])
    scores = {a.entities["host"]: a.risk_score for a in alerts(state_db)}
    assert scores == {"dc1": risk_score("high", "critical"), "kiosk": risk_score("high", "low"),
                      "unknown": risk_score("high", None)}
    assert scores["dc1"] > scores["unknown"] > scores["kiosk"]


def test_risk_formula() -> None:
    assert risk_score("critical", "critical") == 100
    assert risk_score("medium") == 45
    assert risk_score("high", "high") == 88
    assert risk_score("low", "medium", confidence=100) == 30
    assert risk_score("nonsense") == 5


def test_a_late_older_match_joins_its_groups_alert(state_db: StateDB) -> None:
    """Events arrive out of order: an older match within the window counts into the alert
    instead of opening a second one, and moves its first seen back."""
    record(state_db, [{"id": "e2", "host": "a", "minutes": 20}], BY_HOST)
    stats = record(state_db, [{"id": "e1", "host": "a", "minutes": 5}], BY_HOST)
    assert (stats.created, stats.grouped) == (0, 1)
    [alert] = alerts(state_db)
    assert alert.count == 2
    assert alert.first_seen == T0 + timedelta(minutes=5)
    assert alert.last_seen == T0 + timedelta(minutes=20)

"""SOC metrics over alerts with known times and verdicts: exact MTTD, MTTA, MTTR, volumes,
false-alarm rates and tuning advice, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.kpi.helpers import alert, s
from watchkeeper.errors import UsageError
from watchkeeper.kpi import Durations, Period, compute, summarize
from watchkeeper.kpi.service import AlertFact
from watchkeeper.state.db import StateDB

T = datetime(2026, 1, 1, tzinfo=UTC)
PERIOD = Period(T, T + timedelta(days=3))
DAY = timedelta(days=1)


@pytest.fixture
def db(state_db: StateDB) -> StateDB:
    rows = [
        alert("r-noisy", "high", "ws1", T, 60, ack=120, close=600, verdict="false_positive"),
        alert("r-noisy", "high", "ws1", T + DAY, 30, ack=60, close=300, verdict="false_positive"),
        alert("r-noisy", "high", "ws2", T + DAY + s(3600), 90, ack=180, close=900,
              verdict="true_positive"),
        alert("r-noisy", "high", "ws1", T + DAY + s(7200), 10),
        alert("r-quiet", "low", "db1", T + 2 * DAY, 120, ack=600),
        # created five minutes before its event's time: a sender's clock ahead
        alert("r-quiet", "low", "db1", T + 2 * DAY + s(600), -300),
        # outside the period: created at its end, and before its start
        alert("r-noisy", "high", "ws9", T + 3 * DAY - s(5), 5, ack=1, close=2,
              verdict="false_positive"),
        alert("r-noisy", "high", "ws9", T - s(100), 50, ack=1, close=2, verdict="benign"),
    ]
    with state_db.session() as session:
        session.add_all(rows)
    return state_db


def report_of(db: StateDB, level: str | None = None) -> dict[str, Any]:
    with db.read() as session:
        return asdict(compute(session, PERIOD, level))


def test_mttd_mtta_and_mttr_over_the_period(db: StateDB) -> None:
    report = report_of(db)
    overall = report["overall"]
    assert overall == {
        "count": 6,
        # 60, 30, 90, 10, 120 s; the skewed alert is left out
        "mttd": {"count": 5, "mean": 62.0, "median": 60.0, "p90": 120.0},
        "mtta": {"count": 4, "mean": 240.0, "median": 150.0, "p90": 600.0},
        "mttr": {"count": 3, "mean": 600.0, "median": 600.0, "p90": 900.0},
    }
    assert report["skewed"] == 1
    assert (report["since"], report["until"]) == (PERIOD.since, PERIOD.until)


def test_timings_by_level_and_by_rule(db: StateDB) -> None:
    report = report_of(db)
    by_level = report["by_level"]
    assert isinstance(by_level, dict)
    assert sorted(by_level) == ["high", "low"]
    assert by_level["high"]["count"] == 4
    assert by_level["high"]["mttd"] == {"count": 4, "mean": 47.5, "median": 45.0, "p90": 90.0}
    assert by_level["low"]["mtta"] == {"count": 1, "mean": 600.0, "median": 600.0,
                                       "p90": 600.0}
    assert by_level["low"]["mttr"] == {"count": 0, "mean": None, "median": None, "p90": None}
    by_rule = report["by_rule"]
    assert isinstance(by_rule, dict)
    assert {rule: t["count"] for rule, t in by_rule.items()} == {"r-noisy": 4, "r-quiet": 2}


def test_volume_has_a_bucket_for_every_day_of_the_period(db: StateDB) -> None:
    assert report_of(db)["volume"] == [
        {"day": date(2026, 1, 1), "count": 1},
        {"day": date(2026, 1, 2), "count": 3},
        {"day": date(2026, 1, 3), "count": 2},
    ]


def test_noisiest_rules_with_their_false_alarm_rate(db: StateDB) -> None:
    assert report_of(db)["noisiest"] == [
        {"rule_id": "r-noisy", "rule_title": "Title of r-noisy", "count": 4, "verdicts": 3,
         "false_positives": 2, "false_alarm_rate": 0.6667},
        {"rule_id": "r-quiet", "rule_title": "Title of r-quiet", "count": 2, "verdicts": 0,
         "false_positives": 0, "false_alarm_rate": None},
    ]


def test_tuning_advice_names_the_host_of_most_false_positives(db: StateDB) -> None:
    assert report_of(db)["advice"] == [
        {"rule_id": "r-noisy", "rule_title": "Title of r-noisy", "verdicts": 3,
         "false_positives": 2, "false_alarm_rate": 0.6667, "host": "ws1",
         "host_false_positives": 2, "condition": "host.name: ws1",
         "match": {"host.name": "ws1"}},
    ]


def test_a_level_narrows_every_figure(db: StateDB) -> None:
    report = report_of(db, "low")
    assert report["level"] == "low"
    assert report["overall"]["count"] == 2
    assert [n["rule_id"] for n in report["noisiest"]] == ["r-quiet"]
    assert report["advice"] == []
    assert [d["count"] for d in report["volume"]] == [0, 0, 2]


def test_an_empty_period_has_no_figures(state_db: StateDB) -> None:
    with state_db.read() as session:
        report = compute(session, PERIOD)
    assert report.overall.count == 0
    assert report.overall.mttd == Durations(0, None, None, None)
    assert [d.count for d in report.volume] == [0, 0, 0]
    assert report.noisiest == []
    assert report.advice == []


def fact(rule: str, host: str | None, verdict: str | None) -> AlertFact:
    return AlertFact(rule, rule, "medium", host, "closed" if verdict else "new", verdict,
                     T, T + s(1), T + s(2), T + s(3) if verdict else None)


def test_no_host_exception_is_suggested_when_false_positives_are_spread() -> None:
    facts = [fact("spread", h, "false_positive") for h in ("a", "b", "c")]
    facts += [fact("few", "a", "false_positive"), fact("few", "a", "false_positive")]
    advice = summarize(facts, PERIOD).advice
    assert [a.rule_id for a in advice] == ["spread"], "two verdicts are too few to advise on"
    assert advice[0].host == "a"
    assert advice[0].host_false_positives == 1
    assert advice[0].condition is None
    assert advice[0].match is None


def test_advice_is_ordered_by_false_alarm_rate() -> None:
    facts = [fact("half", "x", v) for v in ("false_positive", "benign", "false_positive",
                                             "true_positive")]
    facts += [fact("all", "y", "false_positive") for _ in range(3)]
    facts += [fact("none", "z", "benign") for _ in range(3)]
    advice = summarize(facts, PERIOD).advice
    assert [(a.rule_id, a.false_alarm_rate) for a in advice] == [("all", 1.0), ("half", 0.5)]


def test_a_period_defaults_to_the_last_30_days_and_is_checked() -> None:
    now = datetime(2026, 3, 31, 12, tzinfo=UTC)
    assert Period.of(None, None, now) == Period(now - timedelta(days=30), now)
    naive = Period.of(datetime(2026, 3, 1), datetime(2026, 3, 2, 6))
    assert naive.since.tzinfo is UTC
    assert naive.days() == [date(2026, 3, 1), date(2026, 3, 2)]
    with pytest.raises(UsageError, match="must be before"):
        Period.of(now, now)
    with pytest.raises(UsageError, match="at most 366 days"):
        Period.of(now - timedelta(days=400), now)


def test_percentiles_are_nearest_rank() -> None:
    assert Durations.of([5.0]) == Durations(1, 5.0, 5.0, 5.0)
    ten = Durations.of([float(n) for n in range(10, 0, -1)])
    assert (ten.mean, ten.median, ten.p90) == (5.5, 5.5, 9.0)

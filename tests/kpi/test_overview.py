"""The dashboard's figures without a server: weeks, trend points, event rates, and the
case that bulk promotion makes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, Counter

from watchkeeper.alerts.bulk import case_for, check
from watchkeeper.errors import UsageError
from watchkeeper.kpi.overview import by_week
from watchkeeper.kpi.service import AlertFact
from watchkeeper.ops.rates import EventRates
from watchkeeper.web.figures import polyline, trend_points

START = datetime(2026, 1, 5, tzinfo=UTC)


def _fact(created: datetime, detect_s: float, close_s: float | None = None) -> AlertFact:
    return AlertFact(
        rule_id="r", rule_title="R", level="high", host=None,
        status="closed" if close_s is not None else "new", verdict=None,
        first_seen=created - timedelta(seconds=detect_s), created_at=created,
        acknowledged_at=None,
        closed_at=None if close_s is None else created + timedelta(seconds=close_s))


def test_alerts_fall_into_the_week_they_were_created_in() -> None:
    facts = [_fact(START + timedelta(hours=1), 10, 100), _fact(START + timedelta(days=6), 30),
             _fact(START + timedelta(days=15), 60, 50), _fact(START - timedelta(days=1), 1)]
    weeks = by_week(facts, START, 3)
    assert [w.since for w in weeks] == [START + timedelta(days=7 * n) for n in range(3)]
    assert [w.timings.count for w in weeks] == [2, 0, 1]
    assert weeks[0].timings.mttd.mean == 20
    assert weeks[0].timings.mttr.mean == 100
    assert weeks[1].timings.mttd.mean is None
    assert weeks[2].timings.mttr.mean == 50


def test_trend_points_put_the_largest_value_at_the_top_and_skip_empty_weeks() -> None:
    points = trend_points([("a", 60.0), ("b", None), ("c", 120.0)], width=106, height=112)
    assert [(p.x, p.y) for p in points] == [(6.0, 56.0), (100.0, 6.0)]
    assert [p.label for p in points] == ["a: 1m 0s", "c: 2m 0s"]
    assert polyline(points) == "6.0,56.0 100.0,6.0"
    assert trend_points([("a", None)]) == []


def test_event_rates_come_from_two_readings_of_the_counter() -> None:
    counter = Counter("watchkeeper_events_in", "x", ["source_type"],
                      registry=CollectorRegistry())
    counter.labels("syslog").inc(10)
    now = [datetime.now(UTC).timestamp() + 10]
    rates = EventRates(counter, clock=lambda: now[0])
    first = rates.read()
    assert first[0].source_type == "syslog"
    assert first[0].since_start
    assert first[0].per_second is not None
    assert 0 < first[0].per_second <= 1.1
    now[0] += 0.5
    assert rates.read() == first, "readings too close together keep the last rate"
    now[0] += 4.5
    counter.labels("syslog").inc(50)
    counter.labels("winlog-json").inc(1)
    second = rates.read()
    assert second[0].source_type == "syslog"
    assert second[0].per_second == 10.0
    assert second[0].over_s == 5.0
    assert not second[0].since_start
    assert second[0].total == 60
    assert second[1].source_type == "winlog-json"
    assert second[1].since_start


def test_a_promoted_case_is_named_after_the_riskiest_alert_and_as_severe_as_the_worst() -> None:
    alerts = [{"id": 1, "risk_score": 20, "rule_title": "Low thing", "level": "low"},
              {"id": 2, "risk_score": 80, "rule_title": "Big thing", "level": "medium"},
              {"id": 3, "risk_score": 50, "rule_title": "Other", "level": "critical"}]
    case = case_for(alerts)
    assert case.title == "Big thing and 2 more alerts"
    assert case.severity == "critical"
    assert "#1, #2, #3" in case.description
    assert case_for(alerts[:1]).title == "Low thing"


def test_a_bulk_request_that_cannot_work_is_refused_whole() -> None:
    assert check([3, 1, 3], "acknowledge", None) == [3, 1]
    for ids, action, verdict in (([1], "delete", None), ([1], "close", None), ([], "close",
                                 "benign"), (list(range(1, 502)), "acknowledge", None)):
        try:
            check(ids, action, verdict)
        except UsageError:
            continue
        raise AssertionError(f"{action} {verdict} {len(ids)} ids was accepted")

"""Indicators matched in the pipeline and in stored events (retro-hunt): alerts with the
indicator's context, once each, and sightings fed back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.pipeline.conftest import Rig, make_rig
from watchkeeper.alerts.service import AlertFilter, AlertService
from watchkeeper.audit.service import AuditLog
from watchkeeper.config import IntelSettings
from watchkeeper.intel.model import FeedResult, IndicatorIn
from watchkeeper.intel.retrohunt import HuntReport, retro_hunt
from watchkeeper.intel.service import IntelService
from watchkeeper.intel.store_model import SightingRow
from watchkeeper.state.db import StateDB

SSHD = ("<38>{stamp} {host} sshd[12{n}]: "
        "Failed password for root from {ip} port 5{n} ssh2\n")
SENT = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)
"""When the test events happened: recent, so that they are inside the retro-hunt window
whatever the day the tests run."""


def sshd(n: int, ip: str, host: str = "web01") -> bytes:
    at = SENT + timedelta(seconds=n)
    stamp = f"{at:%b} {at.day:2d} {at:%H:%M:%S}"
    return SSHD.format(stamp=stamp, n=n, ip=ip, host=host).encode()


@pytest.fixture
def rig(state_db: StateDB, tmp_path: Path) -> Iterator[Rig]:
    made = make_rig(state_db, tmp_path / "spool")
    made.pipeline.intel = IntelService(state_db, AuditLog(state_db), IntelSettings())
    yield made
    made.pipeline.stop(drain_timeout_s=0)
    made.spool.close()


def intel_of(rig: Rig) -> IntelService:
    assert rig.pipeline.intel is not None
    return rig.pipeline.intel


def load(rig: Rig, *items: IndicatorIn) -> None:
    intel_of(rig).ingest("analyst", FeedResult(list(items), []), "test-feed")
    intel_of(rig).refresh()


def hunt(rig: Rig, days: int = 30) -> HuntReport:
    """A retro-hunt that need not wait for the matcher to settle (nothing is in flight)."""
    return retro_hunt(intel_of(rig), rig.store, days=days, grace=timedelta(0),
                      margin=timedelta(0))


def intel_alerts(db: StateDB) -> list[dict[str, Any]]:
    found = AlertService(db, AuditLog(db)).list(AlertFilter(limit=100))[0]
    return [a for a in found if a["rule_id"].startswith("intel-")]


def sightings(db: StateDB) -> list[tuple[str, int, str]]:
    with db.session() as session:
        return [(r.kind, r.count, r.by) for r in session.scalars(select(SightingRow))]


def test_an_event_with_an_indicated_address_raises_an_alert_with_its_context(
        rig: Rig) -> None:
    load(rig, IndicatorIn.of("ipv4", "203.0.113.5", "test-feed", confidence=90, tlp="green",
                             threat="Mirai", tags=("botnet",), attack=("T1110",)))
    rig.send(sshd(1, "203.0.113.5") + sshd(2, "203.0.113.6") + sshd(3, "203.0.113.5"))
    rig.run()
    found = intel_alerts(rig.db)
    assert len(found) == 1, "two events of one indicator on one host make one alert"
    alert = found[0]
    assert alert["count"] == 2
    assert alert["rule_title"] == "Threat intel: ipv4 203.0.113.5 (Mirai)"
    assert alert["level"] == "high"
    assert {"intel", "intel.ipv4", "botnet", "attack.t1110"} <= set(alert["tags"])
    context = alert["context"]
    assert context["type"] == "intel"
    assert context["retro_hunt"] is False
    assert context["fields"] == ["source.ip"]
    indicator = context["indicator"]
    assert (indicator["value"], indicator["confidence"], indicator["tlp"],
            indicator["sources"], indicator["threat"]) == (
        "203.0.113.5", 90, "green", ["test-feed"], "Mirai")
    assert alert["entities"]["source_ip"] == "203.0.113.5"
    assert sightings(rig.db) == [("seen", 2, "system")]
    assert intel_of(rig).get(indicator["id"]).sightings == 2


def test_a_replayed_batch_adds_no_alert_and_no_sighting(rig: Rig) -> None:
    load(rig, IndicatorIn.of("ipv4", "203.0.113.5", "test-feed", confidence=90))
    rig.send(sshd(1, "203.0.113.5"))
    rig.run()
    chunks = rig.spool.read(0, 1 << 20)
    rig.pipeline.position = 0
    rig.pipeline.process(chunks)
    assert len(intel_alerts(rig.db)) == 1
    assert sightings(rig.db) == [("seen", 1, "system")]


def test_a_listed_address_inside_an_indicated_network_does_not_alert(rig: Rig) -> None:
    # 8.8.0.0/16 is no warning list's entry, but 8.8.8.8 (a public resolver) is
    load(rig, IndicatorIn.of("cidr", "8.8.0.0/16", "test-feed", confidence=90))
    rig.send(sshd(1, "8.8.8.8") + sshd(2, "8.8.1.1"))
    rig.run()
    found = intel_alerts(rig.db)
    assert [a["entities"]["source_ip"] for a in found] == ["8.8.1.1"]


def test_without_indicators_or_without_intel_nothing_changes(rig: Rig) -> None:
    rig.send(sshd(1, "203.0.113.5"))
    rig.run()
    assert intel_alerts(rig.db) == []
    rig.pipeline.intel = None
    load_later = IntelService(rig.db, AuditLog(rig.db), IntelSettings())
    load_later.ingest("a", FeedResult([IndicatorIn.of("ipv4", "203.0.113.5", "f")], []), "f")
    rig.send(sshd(2, "203.0.113.5"))
    rig.run()
    assert intel_alerts(rig.db) == []


def test_retro_hunt_finds_stored_events_once(rig: Rig) -> None:
    rig.send(sshd(1, "198.51.100.9") + sshd(2, "198.51.100.10", "web02"))
    rig.run()
    assert intel_alerts(rig.db) == []
    load(rig, IndicatorIn.of("cidr", "198.51.100.0/24", "test-feed", confidence=80,
                             threat="Scanner"))
    report = hunt(rig)
    assert (report.indicators, report.hits, report.alerts) == (1, 2, 2)
    found = intel_alerts(rig.db)
    assert sorted(a["entities"]["host"] for a in found) == ["web01", "web02"]
    assert all(a["context"]["retro_hunt"] is True for a in found)
    # the sighting is dated by the events it was found in, not by the hunt
    seen = intel_of(rig).get(found[0]["context"]["indicator"]["id"])
    assert seen.last_sighting is not None
    assert seen.last_sighting.replace(second=0) == SENT
    # hunted once: a second pass has nothing to do, and replaying the events adds nothing
    assert hunt(rig).indicators == 0
    chunks = rig.spool.read(0, 1 << 20)
    rig.pipeline.position = 0
    rig.pipeline.process(chunks)
    assert len(intel_alerts(rig.db)) == 2


def test_retro_hunt_of_zero_days_marks_indicators_hunted_without_reading(rig: Rig) -> None:
    rig.send(sshd(1, "198.51.100.9"))
    rig.run()
    load(rig, IndicatorIn.of("ipv4", "198.51.100.9", "test-feed", confidence=80))
    report = hunt(rig, days=0)
    assert (report.indicators, report.events_read, report.alerts) == (1, 0, 0)
    assert intel_alerts(rig.db) == []


def test_closing_an_intel_alert_as_a_false_positive_stops_the_indicator(rig: Rig) -> None:
    load(rig, IndicatorIn.of("ipv4", "203.0.113.5", "test-feed", confidence=90))
    rig.send(sshd(1, "203.0.113.5"))
    rig.run()
    alert = intel_alerts(rig.db)[0]
    service = AlertService(rig.db, AuditLog(rig.db))
    service.close_hooks.append(intel_of(rig).alert_closed)
    service.close(alert["id"], "carol", "false_positive", "our vulnerability scanner")
    indicator = intel_of(rig).get(alert["context"]["indicator"]["id"])
    assert indicator.false_positives == 1
    assert indicator.active is False
    assert ("false-positive", 1, "carol") in sightings(rig.db)
    # later events of the value raise nothing
    rig.send(sshd(2, "203.0.113.5", "web02"))
    intel_of(rig).refresh()
    rig.run()
    assert len(intel_alerts(rig.db)) == 1, "the indicator no longer matches"


def test_retro_hunt_waits_until_the_live_matcher_has_held_the_indicators(rig: Rig) -> None:
    rig.send(sshd(1, "198.51.100.9"))
    rig.run()
    load(rig, IndicatorIn.of("ipv4", "198.51.100.9", "test-feed", confidence=80))
    # just swapped in: a batch matched without them may still be on its way to the store
    assert retro_hunt(intel_of(rig), rig.store, days=30).indicators == 0
    # imported after the matcher read the store: not in it, so not hunted yet
    intel_of(rig).ingest("a", FeedResult([IndicatorIn.of("ipv4", "198.51.100.10", "f")], []),
                         "f")
    later = hunt(rig)
    assert (later.indicators, later.alerts) == (1, 1)
    assert intel_of(rig).refresh() is True
    assert hunt(rig).indicators == 1


def test_an_indicator_allowlisted_since_the_matcher_was_built_raises_nothing(
        rig: Rig) -> None:
    load(rig, IndicatorIn.of("ipv4", "203.0.113.5", "test-feed", confidence=90))
    intel_of(rig).allow("alice", "ipv4", "203.0.113.5", "our scanner")
    # before the next refresh the matcher still holds it; the alert stage checks again
    rig.send(sshd(1, "203.0.113.5"))
    rig.run()
    assert intel_alerts(rig.db) == []

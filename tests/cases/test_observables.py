"""Observables: extracted from a case's alerts and their events, refreshed as alerts join,
added by hand with their values checked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import cast

import polars as pl
import pytest

from tests.alerts.helpers import T0, make_rule, matches
from tests.serverfixtures import ROOT, Api
from watchkeeper.alerts.service import AlertFilter, AlertService
from watchkeeper.alerts.writer import AlertWriter, Grouping
from watchkeeper.assets.service import AssetService
from watchkeeper.audit.service import AuditLog
from watchkeeper.cases.grouping import RANK
from watchkeeper.cases.observables import AlertFacts, ObservableService, extract, normalize
from watchkeeper.cases.service import CaseService, NewCase
from watchkeeper.errors import ConflictError, UsageError
from watchkeeper.state.db import StateDB
from watchkeeper.store.base import EventStore

SHA256 = "A" * 64
WINDOWS = (ROOT / "examples" / "logs" / "windows" / "sysmon-and-security.jsonl").read_bytes()


class FakeStore:
    """Just ``get``: the one call observables make, recorded."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame
        self.asked: list[list[str]] = []

    def get(self, event_ids: Sequence[str]) -> pl.DataFrame:
        self.asked.append(list(event_ids))
        return self.frame.filter(pl.col("event.id").is_in(list(event_ids)))


EVENTS = pl.DataFrame({
    "event.id": ["e1", "e2", "e3"],
    "@timestamp": [T0, T0 + timedelta(minutes=5), T0 + timedelta(minutes=9)],
    "source.ip": ["10.0.0.5", "-", "10.0.0.5"],
    "dns.question.name": [None, "Evil.Example.COM.", None],
    "file.hash.sha256": [None, SHA256, "not-a-hash"],
})


@pytest.fixture
def world(state_db: StateDB) -> tuple[CaseService, ObservableService, FakeStore, list[int]]:
    rules = [make_rule("r-1", "high"), make_rule("r-2", "critical")]
    rows: list[dict[str, object]] = [
        {"id": "e1", "host": "WS1.corp.example", "user": "alice", "rule": 0, "minutes": 0},
        {"id": "e2", "host": "WS1.corp.example", "rule": 1, "minutes": 5},
        {"id": "e3", "host": "DC1", "rule": 0, "minutes": 9},
    ]
    with state_db.session() as session:
        AlertWriter().record(session, matches(rows), rules, lambda rule: Grouping())
    audit = AuditLog(state_db)
    alerts, _ = AlertService(state_db, audit).list(AlertFilter(sort="first_seen"))
    AssetService(state_db, audit).put("system", "ws1", "critical", owner="it-desk")
    store = FakeStore(EVENTS)
    observables = ObservableService(state_db, audit, cast(EventStore, store))
    cases = CaseService(state_db, audit)
    cases.link_hooks.append(observables.refresh)
    return cases, observables, store, sorted(int(a["id"]) for a in alerts)


def test_values_are_checked_and_normalized() -> None:
    assert normalize("ip", " 2001:DB8::1 ") == "2001:db8::1"
    assert normalize("hash", SHA256) == "a" * 64
    md5 = "d41d8cd98f00b204e9800998ecf8427e"
    assert normalize("hash", md5.upper()) == md5
    assert normalize("domain", "Evil.Example.COM.") == "evil.example.com"
    assert normalize("host", "WS1") == "ws1"
    with pytest.raises(UsageError, match="not an IP address"):
        normalize("ip", "10.0.0.300")
    with pytest.raises(UsageError, match="MD5, SHA-1 or SHA-256"):
        normalize("hash", "abc")
    with pytest.raises(UsageError, match="MD5, SHA-1 or SHA-256"):
        normalize("hash", "z" * 32)
    with pytest.raises(UsageError, match="not a domain"):
        normalize("domain", "no spaces.example")
    with pytest.raises(UsageError, match="unknown observable kind 'colour'"):
        normalize("colour", "red")
    with pytest.raises(UsageError, match="printable"):
        normalize("user", "bad\nname")


def test_extraction_reads_entities_and_event_fields() -> None:
    alerts = [AlertFacts(1, {"host": "WS1", "source_ip": "10.0.0.5", "user": "-"}, T0, T0),
              AlertFacts(2, {"host": "ws1", "destination_ip": "10.0.0.5"},
                         T0 + timedelta(minutes=5), T0 + timedelta(minutes=7))]
    found = extract(alerts, EVENTS, {"e2": 2})
    assert sorted(found) == [("domain", "evil.example.com"), ("hash", "a" * 64),
                             ("host", "ws1"), ("ip", "10.0.0.5")]
    assert found[("host", "ws1")].alert_ids == {1, 2}
    assert found[("host", "ws1")].first_seen == T0
    assert found[("host", "ws1")].last_seen == T0 + timedelta(minutes=7)
    assert found[("hash", "a" * 64)].alert_ids == {2}


def test_observables_follow_the_alerts_of_a_case(
    world: tuple[CaseService, ObservableService, FakeStore, list[int]],
) -> None:
    cases, observables, store, ids = world
    case = cases.promote("alice", ids[0])
    listed = {(o["kind"], o["value"]): o for o in observables.list(case["id"])}
    assert sorted(listed) == [("host", "ws1.corp.example"), ("ip", "10.0.0.5"),
                              ("user", "alice")]
    host = listed[("host", "ws1.corp.example")]
    assert host["context"] == {"asset": "ws1", "criticality": "critical", "owner": "it-desk"}
    assert host["intel"] is None
    assert host["source"] == "alerts"
    assert host["alert_ids"] == [ids[0]]
    cases.add_alerts("alice", case["id"], (ids[1], ids[2]))
    listed = {(o["kind"], o["value"]): o for o in observables.list(case["id"])}
    assert ("domain", "evil.example.com") in listed
    assert ("hash", "a" * 64) in listed
    assert ("host", "dc1") in listed
    assert listed[("host", "dc1")]["context"] == {}
    assert listed[("host", "ws1.corp.example")]["alert_ids"] == sorted(ids[:2])
    assert listed[("ip", "10.0.0.5")]["alert_ids"] == [ids[0], ids[2]]
    assert all(len(asked) <= 500 for asked in store.asked)


def test_an_observable_added_by_hand(
    world: tuple[CaseService, ObservableService, FakeStore, list[int]],
) -> None:
    cases, observables, _, _ = world
    case = cases.create("alice", NewCase(title="Phishing"))
    made = observables.add("alice", case["id"], "ip", "192.0.2.7", note="sender relay")
    assert (made["kind"], made["value"], made["source"]) == ("ip", "192.0.2.7", "manual")
    assert made["added_by"] == "alice"
    host = observables.add("alice", case["id"], "host", "WS1")
    assert host["context"]["owner"] == "it-desk"
    with pytest.raises(ConflictError, match=r"has the ip 192\.0\.2\.7 already"):
        observables.add("alice", case["id"], "ip", "192.0.2.7")
    with pytest.raises(UsageError):
        observables.add("alice", case["id"], "hash", "1234")
    assert [o["value"] for o in observables.list(case["id"])] == ["ws1", "192.0.2.7"]


def test_observables_and_kill_chain_over_the_api(api: Api) -> None:
    api.ingest(WINDOWS, "winlog-json")
    analyst, viewer = api.bearer("analyst"), api.bearer("viewer")
    alerts = api.client.get("/api/v1/alerts", headers=viewer).json()["alerts"]
    case = api.client.post(f"/api/v1/cases/from-alert/{alerts[0]['id']}",
                           headers=analyst).json()
    url = f"/api/v1/cases/{case['id']}/observables"
    listed = api.client.get(url, headers=viewer).json()["observables"]
    host = alerts[0]["entities"]["host"].lower()
    assert ("host", host) in {(o["kind"], o["value"]) for o in listed}
    assert all(o["alert_ids"] == [alerts[0]["id"]] for o in listed)
    bad = api.client.post(url, headers=analyst, json={"kind": "ip", "value": "999.1.1.1"})
    assert bad.status_code == 400
    assert "not an IP address" in bad.json()["message"]
    from watchkeeper.intel.model import IndicatorIn

    api.services.intel.add("system", IndicatorIn.of("sha256", "a" * 64, "vendor-x",
                                                    threat="Emotet"))
    made = api.client.post(url, headers=analyst, json={"kind": "hash", "value": SHA256})
    assert made.status_code == 201
    assert made.json()["value"] == "a" * 64
    assert [(m["value"], m["threat"], m["sources"]) for m in made.json()["intel"]["matches"]
            ] == [("a" * 64, "Emotet", ["vendor-x"])]
    assert api.client.post(url, headers=viewer,
                           json={"kind": "user", "value": "x"}).status_code == 403
    chain = api.client.get(f"/api/v1/cases/{case['id']}/killchain", headers=viewer).json()
    assert [step["tactic"] for step in chain["tactics"]] == sorted(
        alerts[0]["tactics"], key=lambda t: RANK.get(t, len(RANK)))
    assert api.client.get("/api/v1/cases/999/killchain", headers=viewer).status_code == 404

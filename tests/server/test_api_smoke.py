"""The API on a real data folder: an ingested event that matches a rule is one alert."""

from __future__ import annotations

from pathlib import Path

from tests.serverfixtures import ROOT, Api

WINDOWS = (ROOT / "examples" / "logs" / "windows" / "sysmon-and-security.jsonl").read_bytes()


def test_ingested_events_become_alerts_and_are_searchable(api: Api) -> None:
    api.ingest(WINDOWS, "winlog-json")
    answer = api.client.get("/api/v1/alerts", headers=api.bearer("viewer"))
    assert answer.status_code == 200
    titles = sorted(a["rule_title"] for a in answer.json()["alerts"])
    assert titles == ["Account Discovery With whoami", "PowerShell With An Encoded Command",
                      "Security Audit Log Cleared"]
    found = api.client.get("/api/v1/events", params={"q": "EventID:1102"},
                           headers=api.bearer("viewer")).json()
    assert found["total"] == 1
    assert found["rows"][0]["host.name"] == "dc-01.corp.example"


def test_a_malformed_line_is_a_dead_letter_and_the_rest_is_kept(api: Api, tmp_path: Path) -> None:
    body = b'{"EventID": 4624, "Channel": "Security", "Computer": "x"}\n{not json\n'
    api.ingest(body, "winlog-json")
    letters = api.client.get("/api/v1/dead-letters", headers=api.bearer("viewer")).json()
    assert letters["total"] == 1
    assert letters["dead_letters"][0]["raw"] == "{not json"
    assert "JSON" in letters["dead_letters"][0]["reason"]
    events = api.client.get("/api/v1/events", headers=api.bearer("viewer")).json()
    assert events["total"] == 1


def test_event_times_without_a_zone_are_utc(api: Api) -> None:
    api.ingest(WINDOWS, "winlog-json")
    everything = api.client.get("/api/v1/events", headers=api.bearer("viewer")).json()["total"]
    naive = api.client.get("/api/v1/events", params={"start": "2000-01-01T00:00:00"},
                           headers=api.bearer("viewer"))
    assert naive.status_code == 200, naive.text
    assert naive.json()["total"] == everything
    bars = api.client.get("/api/v1/events/histogram", params={"q": "EventID:1102"},
                          headers=api.bearer("viewer")).json()["buckets"]
    assert sum(b["count"] for b in bars) == 1

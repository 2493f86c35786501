"""The asset inventory vulnerability priority reads: kind, team, exposure, environment,
and a CSV import that reports each bad row and imports the others."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.serverfixtures import ROOT, Api


def recent_events() -> bytes:
    """Logons on two hosts, three on one and one on the other, timestamped now."""
    now = datetime.now(UTC).isoformat()
    hosts = ["ws-07.corp.example"] * 3 + ["db-2.corp.example"]
    return b"".join(json.dumps({"@timestamp": now, "EventID": 4624, "Channel": "Security",
                                "Computer": host}).encode() + b"\n" for host in hosts)

CSV = b"""name,ip,kind,criticality,owner,team,exposure,environment,tags
web-1,203.0.113.10,host,critical,ann,web,internet,prod,"pci,dmz"
db-1,10.0.0.5,host,high,bob,data,internal,prod,
shop,,application,sky-high,,web,internet,prod,
,10.0.0.9,host,low,,,,,
img-api,,image,medium,,platform,outer-space,dev,
"""


def test_assets_carry_kind_team_exposure_and_environment(api: Api) -> None:
    made = api.client.put("/api/v1/assets", json={
        "name": "VPN-1", "criticality": "critical", "kind": "service", "team": "network",
        "exposure": "internet", "environment": "prod"}, headers=api.bearer("admin"))
    assert made.status_code == 200, made.text
    assert {k: made.json()[k] for k in ("name", "kind", "team", "exposure", "environment")} \
        == {"name": "vpn-1", "kind": "service", "team": "network", "exposure": "internet",
            "environment": "prod"}
    refused = api.client.put("/api/v1/assets", json={"name": "x", "exposure": "dmz"},
                             headers=api.bearer("admin"))
    assert refused.status_code == 422


def test_a_csv_import_reports_bad_rows_and_imports_the_rest(api: Api) -> None:
    done = api.client.post("/api/v1/assets/import", content=CSV,
                           headers=api.bearer("admin"))
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["imported"] == 2
    assert [(s["line"], s["reason"]) for s in body["skipped"]] == [
        (4, "unknown criticality 'sky-high' (known: low, medium, high, critical)"),
        (5, "an asset needs a name"),
        (6, "unknown exposure 'outer-space' (known: internet, internal)"),
    ]
    listed = {a["name"]: a for a in api.client.get(
        "/api/v1/assets", headers=api.bearer("viewer")).json()}
    assert listed["web-1"]["exposure"] == "internet"
    assert listed["web-1"]["tags"] == "pci,dmz"
    assert listed["db-1"]["team"] == "data"
    bad = api.client.post("/api/v1/assets/import", content=b"host,ip\nx,1.2.3.4\n",
                          headers=api.bearer("admin"))
    assert bad.status_code == 422
    assert "'name' column" in bad.json()["message"]
    refused = api.client.post("/api/v1/assets/import", content=CSV,
                              headers=api.bearer("analyst"))
    assert refused.status_code == 403


def test_hosts_seen_in_events_are_proposed_until_listed(api: Api) -> None:
    api.ingest(recent_events(), "winlog-json")
    proposed = api.client.get("/api/v1/assets/proposed",
                              headers=api.bearer("viewer")).json()
    assert [(p["name"], p["events"]) for p in proposed] == [("ws-07.corp.example", 3),
                                                            ("db-2.corp.example", 1)]
    first = proposed[0]
    api.client.put("/api/v1/assets", json={"name": "ws-07"},
                   headers=api.bearer("admin"))
    again = api.client.get("/api/v1/assets/proposed", headers=api.bearer("viewer")).json()
    assert first["name"] not in [p["name"] for p in again]
    assert len(again) == len(proposed) - 1


def test_an_nmap_report_adds_hosts_only_for_those_who_may_manage_assets(api: Api) -> None:
    before = api.client.get("/api/v1/assets", headers=api.bearer("viewer")).json()
    report = (ROOT / "tests" / "data" / "scans" / "nmap" / "dmz.xml").read_bytes()
    params = {"source": "net:dmz", "format": "nmap"}
    proposed = api.client.post("/api/v1/vulns/import", content=report, params=params,
                               headers=api.bearer("analyst")).json()
    assert proposed["hosts_seen"]
    assert {h["name"] for h in proposed["hosts_missing"]} == set(proposed["hosts_seen"])
    assert not any(h.get("added") for h in proposed["hosts_missing"])
    assert api.client.get("/api/v1/assets", headers=api.bearer("viewer")).json() == before
    added = api.client.post("/api/v1/vulns/import", content=report, params=params,
                            headers=api.bearer("admin")).json()
    assert all(h["added"] for h in added["hosts_missing"])
    names = {a["name"]: a for a in api.client.get(
        "/api/v1/assets", headers=api.bearer("viewer")).json()}
    for host in added["hosts_missing"]:
        assert names[host["name"]]["ip"] == host["ip"]
        assert names[host["name"]]["tags"] == "discovered by network scan"
    again = api.client.post("/api/v1/vulns/import", content=report, params=params,
                            headers=api.bearer("admin")).json()
    assert again["hosts_missing"] == []
    trends = api.client.get("/api/v1/vulns/trends", headers=api.bearer("viewer")).json()
    assert sum(t["open"] for t in trends["by_team"].values()) == sum(
        trends["open_by_severity"].values())

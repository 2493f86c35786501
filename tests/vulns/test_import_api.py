"""Scanner reports imported through the API: merged across tools, prioritized with the
inventory and the feeds, and an exploited flaw on an exposed critical asset escalated to a
case and the patch playbook."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serverfixtures import ROOT, Api, make_settings, open_api

SCANS = ROOT / "tests" / "data" / "scans"
KEV = (b'{"vulnerabilities": [{"cveID": "CVE-2024-22195", "dateAdded": "2024-02-01", '
       b'"knownRansomwareCampaignUse": "Unknown"}]}')


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from open_api(make_settings(
        tmp_path / "data", response={"enable_builtin": ["critical-vulnerability"]}))


def test_an_image_report_is_kept_merged_prioritized_and_escalated(api: Api) -> None:
    client, admin = api.client, api.bearer("admin")
    assert client.put("/api/v1/assets", json={
        "name": "shop-web", "criticality": "critical", "exposure": "internet"},
        headers=admin).status_code == 200
    feed = client.put("/api/v1/vulns/feeds/kev", content=KEV, headers=admin)
    assert feed.json() == {"feed": "kev", "entries": 1, "rescored": 0}
    bad_feed = client.put("/api/v1/vulns/feeds/epss", content=b"cve,epss\nCVE-1,x\n",
                          headers=admin)
    assert bad_feed.status_code == 422
    trivy = (SCANS / "trivy" / "image.json").read_bytes()
    grype = (SCANS / "grype" / "image.json").read_bytes()
    first = client.post("/api/v1/vulns/import", content=trivy, headers=admin,
                        params={"source": "image:shop", "asset": "shop-web"})
    assert first.status_code == 200, first.text
    made = first.json()
    assert made["new"] > 0
    [escalated] = made["escalated"]
    again = client.post("/api/v1/vulns/import", content=trivy, headers=admin,
                        params={"source": "image:shop", "asset": "shop-web"}).json()
    assert (again["new"], again["escalated"]) == (0, [])
    client.post("/api/v1/vulns/import", content=grype, headers=admin,
                params={"source": "image:shop", "asset": "shop-web", "complete": "false"})
    findings = client.get("/api/v1/vulns/findings", headers=api.bearer("viewer")).json()
    exploited = next(f for f in findings if f["key"] == escalated["key"])
    assert exploited["rule"] == "CVE-2024-22195"
    # exploited (KEV), but a user must open a page and the flaw discloses: CISA says Attend
    assert exploited["priority_inputs"]["ssvc"] == {
        "exploitation": "active", "automatable": False, "technical_impact": "partial",
        "mission": "high"}
    assert exploited["ssvc"] == "Attend"
    assert exploited["priority_inputs"]["kev"] is True
    assert exploited["priority_inputs"]["exposure"] == "internet"
    assert findings[0]["risk"] >= findings[-1]["risk"]
    assert len({f["key"] for f in findings}) == len(findings)
    case = client.get(f"/api/v1/cases/{escalated['case_id']}", headers=admin).json()
    assert case["title"] == "CVE-2024-22195 on shop-web: patch now"
    assert case["severity"] == "critical"
    run = client.get(f"/api/v1/playbook-runs/{escalated['run_id']}", headers=admin).json()
    assert run["playbook"] == "critical-vulnerability"
    assert run["inputs"]["cve"] == "CVE-2024-22195"
    assert run["case_id"] == escalated["case_id"]


def test_bad_reports_are_refused_or_reported(api: Api) -> None:
    admin = api.bearer("admin")
    unknown = api.client.post("/api/v1/vulns/import", content=b"hello",
                              params={"source": "x"}, headers=admin)
    assert unknown.status_code == 200
    assert unknown.json()["new"] == 0
    assert unknown.json()["skipped"][0]["reason"]
    wrong = api.client.post("/api/v1/vulns/import", content=b"{}",
                            params={"source": "x", "format": "nessus"}, headers=admin)
    assert wrong.status_code == 400
    assert "nessus" in wrong.json()["message"]
    bomb = api.client.post("/api/v1/vulns/import", params={"source": "x", "format": "nmap"},
                           content=(SCANS / "bad" / "billion-laughs.xml").read_bytes(),
                           headers=admin)
    assert bomb.status_code == 200
    assert bomb.json()["new"] == 0
    assert bomb.json()["skipped"]
    refused = api.client.post("/api/v1/vulns/import", params={"source": "x"},
                              content=b"{}", headers=api.bearer("viewer"))
    assert refused.status_code == 403


def test_a_suppressed_flaw_opens_no_case_and_vex_documents_apply(api: Api) -> None:
    client, admin = api.client, api.bearer("admin")
    client.put("/api/v1/assets", json={"name": "shop-web", "criticality": "critical",
                                       "exposure": "internet"}, headers=admin)
    trivy = (SCANS / "trivy" / "image.json").read_bytes()
    params = {"source": "image:shop", "asset": "shop-web"}
    first = client.post("/api/v1/vulns/import", content=trivy, headers=admin,
                        params=params).json()
    assert first["escalated"] == []  # no KEV feed yet: nothing is exploited
    key = next(f["key"] for f in client.get("/api/v1/vulns/findings", headers=admin).json()
               if f["rule"] == "CVE-2024-22195")
    client.post(f"/api/v1/vulns/findings/{key}/decisions", headers=admin,
                json={"kind": "suppress", "reason": "template rendering is not reachable"})
    client.put("/api/v1/vulns/feeds/kev", content=KEV, headers=admin)
    again = client.post("/api/v1/vulns/import", content=trivy, headers=admin,
                        params=params).json()
    assert again["escalated"] == [], "a suppressed finding opens no case"
    assert client.get("/api/v1/cases", headers=admin).json()["total"] == 0
    vex = (SCANS / "cyclonedx-vex" / "vex.json").read_bytes()
    before = client.get("/api/v1/vulns/findings", headers=admin).json()
    applied = client.post("/api/v1/vulns/import", content=vex, headers=admin,
                          params={"source": "image:shop"}).json()
    assert applied["fixed"] == 0, "a VEX document reports no findings: it fixes nothing"
    after = client.get("/api/v1/vulns/findings", params={"status": "all"},
                       headers=admin).json()
    assert {f["key"] for f in after} >= {f["key"] for f in before}


def test_reports_and_feeds_larger_than_other_bodies_are_taken(api: Api) -> None:
    padding = [{"name": f"pkg{i}", "version": "1.0", "vulns": []} for i in range(40_000)]
    report = json.dumps({"dependencies": padding}).encode()
    assert len(report) > 1 << 20
    done = api.client.post("/api/v1/vulns/import", content=report, headers=api.bearer("admin"),
                           params={"source": "repo:big", "format": "pip-audit"})
    assert done.status_code == 200, done.text
    owner = b"o" * 190
    csv = b"name,owner,tags\n" + b"".join(b"host-%d,%s,%s\n" % (i, owner, b"t" * 490)
                                          for i in range(1_600))
    assert len(csv) > 1 << 20
    assert api.client.post("/api/v1/assets/import", content=csv,
                           headers=api.bearer("admin")).status_code == 200

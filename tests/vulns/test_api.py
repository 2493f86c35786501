"""``/api/v1/vulns``: findings and decisions over HTTP, with the refusals."""

from __future__ import annotations

from tests.serverfixtures import Api
from watchkeeper.vulns.model import Finding, Package, Severity
from watchkeeper.vulns.store import FindingStore


def test_findings_are_listed_and_decided_by_those_who_may(api: Api) -> None:
    finding = Finding("vulnerability", "CVE-2021-44228", "Log4Shell", Severity.CRITICAL,
                      "svc/pom.xml", "trivy",
                      package=Package("Maven", "org.apache.logging.log4j:log4j-core",
                                      "2.14.1"), cvss_score=10.0)
    FindingStore(api.services.db, api.services.audit).ingest("ci", [finding], "repo:svc")
    client = api.client
    [listed] = client.get("/api/v1/vulns/findings", headers=api.bearer("viewer")).json()
    assert listed["key"] == finding.key
    assert listed["tools"] == ["trivy"]
    assert listed["priority_inputs"]["factors"]["severity"] == 1.0
    url = f"/api/v1/vulns/findings/{finding.key}/decisions"
    refused = client.post(url, json={"kind": "suppress", "reason": "x"},
                          headers=api.bearer("viewer"))
    assert refused.status_code == 403
    no_expiry = client.post(url, json={"kind": "accept", "reason": "next sprint"},
                            headers=api.bearer("analyst"))
    assert no_expiry.status_code == 400
    assert "expiry" in no_expiry.json()["message"]
    bad_key = client.post("/api/v1/vulns/findings/not-a-key/decisions",
                          json={"kind": "suppress", "reason": "x"},
                          headers=api.bearer("analyst"))
    assert bad_key.status_code == 422
    made = client.post(url, json={"kind": "vex", "reason": "JNDI lookups disabled",
                                  "vex_state": "not_affected"},
                       headers=api.bearer("analyst"))
    assert made.status_code == 201, made.text
    assert client.get("/api/v1/vulns/findings", headers=api.bearer("viewer")).json() == []
    shown = client.get("/api/v1/vulns/findings", params={"include_decided": "true"},
                       headers=api.bearer("viewer")).json()
    assert shown[0]["decision"]["vex_state"] == "not_affected"
    revoked = client.post(f"/api/v1/vulns/decisions/{made.json()['id']}/revoke",
                          headers=api.bearer("responder"))
    assert revoked.status_code == 200
    assert len(client.get("/api/v1/vulns/findings", headers=api.bearer("viewer")).json()) == 1
    assert client.get("/api/v1/vulns/trends", headers=api.bearer("viewer")).json()[
        "open_by_severity"] == {"critical": 1}

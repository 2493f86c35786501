"""Findings kept across scans on a real state database: one row per key whatever the
version, the tool or the wording; decisions that survive a fix and a comeback."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from watchkeeper.audit.service import AuditLog
from watchkeeper.errors import NotFoundError, UsageError
from watchkeeper.state.db import StateDB
from watchkeeper.vulns.model import Finding, Package, Severity
from watchkeeper.vulns.priority import Context, Kev
from watchkeeper.vulns.store import FindingStore

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
REQUESTS = Package("PyPI", "Requests", "2.19.0", "app/requirements.txt")
LOG4J = Package("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1", "svc/pom.xml")


def vuln(package: Package, rule: str, aliases: tuple[str, ...] = (), *,
         severity: Severity = Severity.HIGH, tool: str = "watchkeeper",
         title: str = "a flaw", score: float | None = 7.5) -> Finding:
    return Finding("vulnerability", rule, title, severity, package.location, tool, aliases,
                   package, cvss_score=score)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(state_db: StateDB) -> tuple[FindingStore, Clock]:
    clock = Clock()
    return FindingStore(state_db, AuditLog(state_db), clock), clock


def test_a_version_bump_a_new_wording_and_a_second_tool_keep_one_finding(
        store: tuple[FindingStore, Clock]) -> None:
    findings, clock = store
    first = findings.ingest("ci", [vuln(REQUESTS, "GHSA-x84v-xcm2-53pg",
                                        ("CVE-2018-18074",))], "repo:app")
    assert (first.new, first.updated) == (1, 0)
    clock.now += timedelta(days=1)
    bumped = replace(REQUESTS, version="2.19.1")
    again = findings.ingest("ci", [
        vuln(bumped, "CVE-2018-18074", ("GHSA-x84v-xcm2-53pg", "PYSEC-2018-28"),
             title="Requests leaks the Authorization header (reworded)"),
        vuln(bumped, "PYSEC-2018-28", ("CVE-2018-18074",), tool="pip-audit"),
    ], "repo:app")
    assert (again.new, again.updated, again.fixed) == (0, 1, 0)
    [row] = findings.find()
    assert row["version"] == "2.19.1"
    assert row["package"] == "requests"
    assert row["rule"] == "GHSA-x84v-xcm2-53pg"
    assert row["aliases"] == ["CVE-2018-18074", "PYSEC-2018-28"]
    assert row["tools"] == ["pip-audit", "watchkeeper"]
    assert row["first_seen"] == T0
    assert row["last_seen"] == T0 + timedelta(days=1)


def test_what_a_complete_scan_no_longer_reports_is_fixed_and_comes_back_reopened(
        store: tuple[FindingStore, Clock]) -> None:
    findings, clock = store
    findings.ingest("ci", [vuln(REQUESTS, "CVE-2018-18074"), vuln(LOG4J, "CVE-2021-44228")],
                    "repo:app")
    partial = findings.ingest("ci", [], "repo:app", complete=False)
    assert partial.fixed == 0
    clock.now += timedelta(hours=1)
    report = findings.ingest("ci", [vuln(LOG4J, "CVE-2021-44228")], "repo:app")
    assert report.fixed == 1
    [fixed] = findings.find(status="fixed")
    assert fixed["rule"] == "CVE-2018-18074"
    assert fixed["fixed_at"] == T0 + timedelta(hours=1)
    other_source = findings.ingest("ci", [], "image:web")
    assert other_source.fixed == 0
    back = findings.ingest("ci", [vuln(REQUESTS, "CVE-2018-18074")], "repo:app")
    assert back.reopened == 1
    assert {f["rule"] for f in findings.find()} == {"CVE-2018-18074"}
    assert {f["rule"] for f in findings.find(status=None)} == {"CVE-2018-18074",
                                                               "CVE-2021-44228"}


def test_decisions_follow_the_key_and_expire(store: tuple[FindingStore, Clock]) -> None:
    findings, clock = store
    finding = vuln(REQUESTS, "CVE-2018-18074")
    findings.ingest("ci", [finding], "repo:app")
    suppressed = findings.decide("ann", finding.key, "suppress", "not reachable: no proxies")
    assert findings.find() == []
    [shown] = findings.find(include_decided=True)
    assert shown["decision"]["id"] == suppressed["id"]
    findings.ingest("ci", [], "repo:app")  # fixed
    findings.ingest("ci", [replace(finding, package=replace(REQUESTS, version="2.20.0"))],
                    "repo:app")  # back, in another version
    assert findings.find() == []
    findings.revoke("ann", suppressed["id"])
    assert len(findings.find()) == 1
    findings.decide("ann", finding.key, "accept", "patched in the next release",
                    expires_at=clock.now + timedelta(days=7))
    assert findings.find() == []
    clock.now += timedelta(days=8)
    assert len(findings.find()) == 1
    findings.decide("ann", finding.key, "vex", "the vulnerable code is not called",
                    vex_state="not_affected")
    assert findings.find() == []
    findings.decide("ann", finding.key, "vex", "being checked",
                    vex_state="under_investigation")
    assert len(findings.find()) == 1


def test_a_key_s_decisions_come_latest_first_with_the_one_in_force_marked(
    store: tuple[FindingStore, Clock],
) -> None:
    findings, clock = store
    finding = vuln(REQUESTS, "CVE-2018-18074")
    findings.ingest("ci", [finding], "repo:app")
    assert findings.decisions(finding.key) == []
    suppressed = findings.decide("ann", finding.key, "suppress", "no proxies")
    clock.now += timedelta(minutes=1)
    accepted = findings.decide("bob", finding.key, "accept", "next release",
                               expires_at=clock.now + timedelta(days=7))
    history = findings.decisions(finding.key)
    assert [(d["id"], d["in_force"]) for d in history] == [(accepted["id"], True),
                                                          (suppressed["id"], False)]
    clock.now += timedelta(days=8)  # the acceptance has ended: the suppression applies
    assert [d["in_force"] for d in findings.decisions(finding.key)] == [False, True]
    findings.revoke("ann", suppressed["id"])
    history = findings.decisions(finding.key)
    assert [d["in_force"] for d in history] == [False, False]
    assert history[1]["revoked_at"] is not None
    assert len(findings.find()) == 1

def test_bad_decisions_are_refused(store: tuple[FindingStore, Clock]) -> None:
    findings, clock = store
    finding = vuln(REQUESTS, "CVE-2018-18074")
    findings.ingest("ci", [finding], "repo:app")
    with pytest.raises(UsageError, match="needs an expiry"):
        findings.decide("ann", finding.key, "accept", "later")
    with pytest.raises(UsageError, match="in the past"):
        findings.decide("ann", finding.key, "accept", "later", expires_at=clock.now)
    with pytest.raises(UsageError, match="needs a reason"):
        findings.decide("ann", finding.key, "suppress", "  ")
    with pytest.raises(UsageError, match="one of suppress, accept, vex"):
        findings.decide("ann", finding.key, "ignore", "x")
    with pytest.raises(UsageError, match="VEX statement"):
        findings.decide("ann", finding.key, "vex", "x", vex_state="maybe")
    with pytest.raises(NotFoundError):
        findings.decide("ann", "0" * 64, "suppress", "x")
    with pytest.raises(UsageError, match="needs a source"):
        findings.ingest("ci", [finding], " ")


def test_the_riskiest_comes_first_with_its_inputs_and_deadline(
        store: tuple[FindingStore, Clock]) -> None:
    findings, _ = store
    exploited = vuln(LOG4J, "CVE-2021-44228", severity=Severity.CRITICAL, score=10.0)
    quiet = vuln(REQUESTS, "CVE-2018-18074", severity=Severity.MEDIUM, score=6.1)

    def context(finding: Finding, asset: str | None) -> Context:
        kev = Kev("CVE-2021-44228", True, "2021-12-10") if finding is exploited else None
        return Context(cvss_score=finding.cvss_score, kev=kev,
                       asset_criticality="critical", exposure="internet")

    findings.ingest("ci", [quiet, exploited], "repo:app", context=context)
    first, second = findings.find()
    assert first["rule"] == "CVE-2021-44228"
    assert first["risk"] == 100.0
    assert first["ssvc"] == "Act"
    assert first["due_at"] == T0 + timedelta(days=3)
    assert first["priority_inputs"]["kev_ransomware"] is True
    assert second["risk"] < first["risk"]
    trends = findings.trends()
    assert trends["open_by_severity"] == {"critical": 1, "medium": 1}
    assert trends["overdue"] == 0


def test_a_complete_scan_by_one_tool_fixes_only_what_that_tool_no_longer_sees(
        store: tuple[FindingStore, Clock]) -> None:
    findings, _ = store
    by_trivy = vuln(REQUESTS, "CVE-2018-18074", tool="trivy")
    also_grype = vuln(LOG4J, "CVE-2021-44228", tool="trivy")
    findings.ingest("ci", [by_trivy, also_grype], "repo:app")
    grype_only = findings.ingest("ci", [replace(also_grype, tool="grype")], "repo:app")
    assert grype_only.fixed == 0, "grype never reported the requests flaw"
    trivy_again = findings.ingest("ci", [also_grype], "repo:app")
    assert trivy_again.fixed == 1
    assert [f["rule"] for f in findings.find(status="fixed")] == ["CVE-2018-18074"]
    empty = findings.ingest("ci", [], "repo:app")
    assert empty.fixed == 0, "a report with no findings and no tool named fixes nothing"
    findings.ingest("ci", [], "repo:app", tools=["trivy"])
    assert {f["rule"] for f in findings.find()} == {"CVE-2021-44228"}


def test_a_new_first_id_keeps_the_finding_and_its_decision(
        store: tuple[FindingStore, Clock]) -> None:
    findings, _ = store
    advisory = vuln(REQUESTS, "GHSA-x84v-xcm2-53pg")
    findings.ingest("ci", [advisory], "repo:app")
    findings.decide("ann", advisory.key, "suppress", "not reachable")
    published = vuln(REQUESTS, "GHSA-x84v-xcm2-53pg", ("CVE-2018-18074",))
    assert published.key != advisory.key
    findings.ingest("ci", [published], "repo:app")
    [kept] = findings.find(include_decided=True)
    assert kept["key"] == advisory.key
    assert kept["aliases"] == ["CVE-2018-18074"]
    assert kept["decision"]["kind"] == "suppress"
    assert findings.find() == []


def test_a_reopened_finding_gets_a_fresh_deadline(store: tuple[FindingStore, Clock]) -> None:
    findings, clock = store
    finding = vuln(REQUESTS, "CVE-2018-18074", score=6.1)
    findings.ingest("ci", [finding], "repo:app")
    findings.ingest("ci", [], "repo:app", tools=["watchkeeper"])
    clock.now += timedelta(days=200)
    findings.ingest("ci", [finding], "repo:app")
    [row] = findings.find()
    assert row["due_at"] == clock.now + timedelta(days=90)
    assert row["first_seen"] == T0


def test_vex_statements_apply_to_stored_findings_once(store: tuple[FindingStore, Clock]) -> None:
    findings, _ = store
    finding = vuln(REQUESTS, "CVE-2018-18074", ("GHSA-x84v-xcm2-53pg",))
    other = vuln(LOG4J, "CVE-2021-44228")
    findings.ingest("ci", [finding, other], "repo:app")
    done = findings.apply_vex("ann", ["GHSA-x84v-xcm2-53pg"], ("PyPI", "requests"),
                              "not_affected", "no proxies")
    assert done == [finding.key]
    assert findings.apply_vex("ann", ["GHSA-x84v-xcm2-53pg"], ("PyPI", "requests"),
                              "not_affected", "no proxies") == []
    assert findings.apply_vex("ann", ["CVE-2018-18074"], ("npm", "requests"),
                              "not_affected", "x") == []
    assert [f["rule"] for f in findings.find()] == ["CVE-2021-44228"]

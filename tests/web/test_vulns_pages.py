"""The vulnerability pages in a real browser: the open findings riskiest first with the
trends above them; a finding's page shows its risk formula with its own numbers, the KEV
and EPSS inputs, the asset's criticality and exposure and the SSVC decision points; an
analyst suppresses a finding with a reason and it leaves the open list; a risk accepted
without an expiry date is refused with the reason shown; a viewer sees no form, and a
decision forged by one is refused.

The module has a server of its own: a Trivy report of an image, on an internet-facing
critical asset with one of its flaws in the KEV catalog, opens a case, which the other
modules' servers should not see."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.serverfixtures import EXAMPLE_RULES, ROOT
from tests.web.liveserver import LiveServer
from tests.web.seed import ADMIN, ANALYST, VIEWER
from tests.web.ui import csrf_token, expect, screenshot, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

TRIVY = ROOT / "tests" / "data" / "scans" / "trivy" / "image.json"
KEV = {"vulnerabilities": [{"cveID": "CVE-2024-0727", "knownRansomwareCampaignUse": "Known",
                            "dateAdded": "2024-02-01"}]}
EPSS = b"#model_version:v2023.03.01\ncve,epss,percentile\nCVE-2024-22195,0.02,0.9\n"
ASSET = {"name": "shop-api", "criticality": "critical", "exposure": "internet",
         "kind": "image", "team": "shop"}
PIP_AUDIT = ROOT / "tests" / "data" / "scans" / "pip-audit" / "report.json"
ROWS = "table.findings tbody tr[data-key]"
# CVSS 5.5, in KEV, critical internet-facing asset: 100 × 0.55 × 1.0 × 1.0 × 1.0
TOP = ("CVE-2024-0727", "100 × 0.55 × 1.0 × 1.0 × 1.0 = 55.0")
# CVSS 5.4, EPSS percentile 0.9, the same asset
SECOND = ("CVE-2024-22195", "100 × 0.54 × 0.93 × 1.0 × 1.0 = 50.2")
# a dependency of a repository with no asset: no CVSS score, no EPSS figure, asset and
# exposure unknown: 100 × 0.5 × 0.65 × 0.5 × 0.8 = 13.0, like its two neighbours
LAST = "PYSEC-2023-221"
FINDINGS = 5


def _call(server: LiveServer, token: str, method: str, path: str, body: bytes,
          content_type: str = "application/json") -> Any:
    request = urllib.request.Request(f"{server.url}{path}", data=body, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


@pytest.fixture(scope="module")
def live(chromium_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of this module's own, with the asset, the feeds and the Trivy report."""
    server = LiveServer.start(tmp_path_factory.mktemp("vulns-site"), EXAMPLE_RULES, ADMIN[1])
    try:
        server.add_user(VIEWER[0], "viewer", VIEWER[1])
        server.add_user(ANALYST[0], "analyst", ANALYST[1])
        token = server.cli("tokens", "create", "--user", ADMIN[0], "--kind", "api",
                           "--name", "vuln-pages").strip()
        _call(server, token, "PUT", "/api/v1/assets", json.dumps(ASSET).encode())
        _call(server, token, "PUT", "/api/v1/vulns/feeds/kev", json.dumps(KEV).encode())
        _call(server, token, "PUT", "/api/v1/vulns/feeds/epss", EPSS, "text/csv")
        done = _call(server, token, "POST", "/api/v1/vulns/import?source=image:shop-api"
                     "&format=trivy&asset=shop-api", TRIVY.read_bytes())
        assert done["new"] == 2, done
        done = _call(server, token, "POST", "/api/v1/vulns/import?source=repo:billing"
                     "&format=pip-audit", PIP_AUDIT.read_bytes())
        assert done["new"] == 3, done
        yield server
    finally:
        server.stop()


def _row(page: Page, rule: str) -> Any:
    return page.locator(ROWS, has_text=rule)


def _key(page: Page, rule: str) -> str:
    page.goto("/vulns?status=all&decided=true")
    key = _row(page, rule).get_attribute("data-key")
    assert key
    return key


def test_the_open_findings_come_riskiest_first_under_the_trends(
    page: Page, tmp_path: Path,
) -> None:
    sign_in(page, ANALYST, then="/vulns")
    expect(page.get_by_role("link", name="Vulnerabilities")).to_have_attribute(
        "aria-current", "page")
    rows = page.locator(ROWS)
    expect(rows).to_have_count(FINDINGS)
    expect(rows.nth(0)).to_contain_text(TOP[0])
    expect(rows.nth(1)).to_contain_text(SECOND[0])
    risks = [float(rows.nth(i).get_attribute("data-risk") or "nan") for i in range(FINDINGS)]
    assert risks == [55.0, 50.2, 13.0, 13.0, 13.0], risks
    expect(_row(page, LAST)).to_contain_text("CVE-2023-46136")  # an alias
    expect(_row(page, LAST)).to_contain_text("werkzeug 2.3.7")
    top = rows.nth(0)
    expect(top).to_contain_text("Attend")
    expect(top).to_contain_text("libssl3 3.0.11-1~deb12u2")
    expect(top).to_contain_text("asset shop-api")
    expect(top).to_contain_text("trivy")
    severity = page.locator("table[data-trend=severity]")
    expect(severity.locator("tr[data-severity=medium] td")).to_have_text("2")
    expect(severity.locator("tr[data-severity=unknown] td")).to_have_text("3")
    expect(page.locator("table[data-trend=decision] tr[data-decision=Attend] td")).to_have_text(
        "1")
    expect(page.locator("table[data-trend=team] tr[data-team=shop] td").first).to_have_text(
        "2")
    expect(page.locator('table[data-trend=team] tr[data-team="(no team)"] td').first
           ).to_have_text("3")
    page.get_by_label("Severity at least").select_option("medium")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"min_severity=medium"))
    expect(rows).to_have_count(2)
    page.goto("/vulns")
    screenshot(page, "vulns.png", tmp_path)


def test_a_finding_shows_why_it_is_where_it_is(page: Page, tmp_path: Path) -> None:
    sign_in(page, ANALYST, then="/vulns")
    _row(page, TOP[0]).get_by_role("link", name=TOP[0]).click()
    expect(page).to_have_url(re.compile(r"/vulns/[0-9a-f]{64}$"))
    expect(page.locator("[data-formula]")).to_have_text(TOP[1])
    expect(page.locator("[data-risk]")).to_have_text("55.0")
    expect(page.locator("[data-ssvc]")).to_have_text("Attend")
    threat = page.locator("tr[data-factor=threat]")
    expect(threat).to_contain_text("KEV")
    expect(threat).to_contain_text("known ransomware use")
    expect(page.locator("tr[data-factor=asset]")).to_contain_text("critical")
    expect(page.locator("tr[data-factor=exposure]")).to_contain_text("internet-facing")
    expect(page.locator("tr[data-point=exploitation] td")).to_have_text("active")
    expect(page.locator("tr[data-point=mission] td")).to_have_text("high")
    expect(page.locator("[data-deadline]")).to_be_visible()
    expect(page.locator("[data-fixed-in]")).to_contain_text("3.0.13-1~deb12u1")
    expect(page.get_by_role("link", name=re.compile(r"case \d+"))).to_be_visible()
    screenshot(page, "vuln-finding.png", tmp_path)

    page.goto(f"/vulns/{_key(page, SECOND[0])}")
    expect(page.locator("[data-formula]")).to_have_text(SECOND[1])
    expect(page.locator("tr[data-factor=threat]")).to_contain_text("EPSS percentile 0.9")
    expect(page.locator("[data-ssvc]")).to_have_text("Track")


def test_an_analyst_suppresses_a_finding_and_it_leaves_the_open_list(page: Page) -> None:
    sign_in(page, ANALYST, then="/vulns")
    page.goto(f"/vulns/{_key(page, LAST)}")
    page.get_by_label("Decision", exact=True).select_option("suppress")
    page.get_by_label("Reason").fill("the debug server is never started")
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator(".decision-in-force")).to_contain_text(
        "suppress by analyst1")
    expect(page.locator("table.decisions tbody tr")).to_contain_text(
        "the debug server is never started")
    finding = page.url
    page.goto("/vulns")
    expect(page.locator(ROWS)).to_have_count(FINDINGS - 1)
    expect(_row(page, LAST)).to_have_count(0)
    page.goto("/vulns?decided=true")
    expect(_row(page, LAST)).to_contain_text("suppress")

    page.goto(finding)
    page.locator("table.decisions").get_by_role("button", name="Revoke").click()
    expect(page.locator(".decision-in-force")).to_contain_text("None in force")
    expect(page.locator("table.decisions tbody tr")).to_contain_text("revoked")
    page.goto("/vulns")
    expect(page.locator(ROWS)).to_have_count(FINDINGS)


def test_a_risk_accepted_without_an_expiry_date_is_refused(page: Page) -> None:
    sign_in(page, ANALYST, then="/vulns")
    page.goto(f"/vulns/{_key(page, SECOND[0])}")
    page.get_by_label("Decision", exact=True).select_option("accept")
    page.get_by_label("Reason").fill("the template path is not user-controlled")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("alert")).to_contain_text("needs an expiry date")
    expect(page.get_by_label("Reason")).to_have_value("the template path is not user-controlled")
    expect(page.get_by_label("Decision", exact=True)).to_have_value("accept")
    expect(page.locator(".decision-in-force")).to_contain_text("None in force")

    page.get_by_label("Reason").fill("")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("alert")).to_contain_text("needs a reason")


def test_a_viewer_sees_no_form_and_a_forged_decision_is_refused(page: Page) -> None:
    sign_in(page, VIEWER, then="/vulns")
    key = _key(page, TOP[0])
    page.goto(f"/vulns/{key}")
    expect(page.locator("[data-formula]")).to_have_text(TOP[1])
    expect(page.get_by_role("button", name="Record decision")).to_have_count(0)
    expect(page.locator("form#decide")).to_have_count(0)
    answer = page.request.post(f"/vulns/{key}/decisions", max_redirects=0, form={
        "csrf_token": csrf_token(page), "kind": "suppress", "reason": "forged"})
    assert answer.status == 403
    assert "vulns:manage" in answer.text()
    page.reload()
    expect(page.locator(".decision-in-force")).to_contain_text("None in force")

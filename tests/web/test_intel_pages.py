"""The threat-intel pages in a real browser, on a real server: a list imported over the API
becomes indicators; an event from an indicated address raises an alert whose page shows
the indicator (sources, TLP, threat); the indicator's page shows the sighting the match
recorded; an analyst records a false positive and the indicator stops matching; a viewer
sees no form, and a forged sighting by one is refused.

The module has a server of its own, so that its indicators alert nowhere else."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.serverfixtures import EXAMPLE_RULES
from tests.web.liveserver import LiveServer
from tests.web.seed import ADMIN, ANALYST, VIEWER
from tests.web.ui import csrf_token, expect, screenshot, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

LIST = b"# vendor list\n203.0.113.66\n198.51.100.0/24\nbad.example.net\n8.8.8.8\n"
SSHD = b"<38>Nov 29 16:40:01 web01 sshd[1201]: Failed password for root from 203.0.113.66 " \
       b"port 5001 ssh2\n"


def _call(server: LiveServer, token: str, method: str, path: str, body: bytes | None = None,
          content_type: str = "application/json") -> Any:
    request = urllib.request.Request(f"{server.url}{path}", data=body, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def _wait_for_alert(server: LiveServer, token: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = _call(server, token, "GET", "/api/v1/alerts?status=new&limit=50")["alerts"]
        hits = [a for a in found if a["rule_id"].startswith("intel-")]
        if hits:
            return hits[0]
        time.sleep(0.5)
    raise AssertionError("no threat-intel alert:\n" + "\n".join(server.log[-40:]))


@pytest.fixture(scope="module")
def live(chromium_path: Path, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[LiveServer]:
    server = LiveServer.start(tmp_path_factory.mktemp("intel-site"), EXAMPLE_RULES, ADMIN[1])
    try:
        server.add_user(VIEWER[0], "viewer", VIEWER[1])
        server.add_user(ANALYST[0], "analyst", ANALYST[1])
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def alert(live: LiveServer) -> dict[str, Any]:
    """The list imported over the API, then an event from one of its addresses: its alert."""
    token = live.cli("tokens", "create", "--user", ADMIN[0], "--kind", "api",
                     "--name", "intel-pages").strip()
    report = _call(live, token, "POST", "/api/v1/intel/import?source=vendor-x"
                   "&format=text&tlp=green&confidence=90", LIST, "text/plain")
    assert (report["new"], report["suppressed"]) == (4, 1), report
    # the event is sent once the live matcher holds the list (it refreshes every few
    # seconds); an event sent before would be found by the retro-hunt, a minute later
    deadline = time.monotonic() + 30
    while _call(live, token, "GET", "/api/v1/intel/stats")["matcher_size"] < 3:
        assert time.monotonic() < deadline, "the matcher never took the list"
        time.sleep(0.2)
    live.ingest(live.ingest_token(ADMIN[0]), SSHD, "syslog")
    return _wait_for_alert(live, token)


def test_the_alert_page_shows_the_indicator(alert: dict[str, Any], page: Page,
                                             tmp_path: Path) -> None:
    sign_in(page, ANALYST, then=f"/alerts/{alert['id']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Threat intel: ipv4 203.0.113.66 (vendor-x)")
    facts = page.get_by_role("table", name="indicator")
    expect(facts).to_contain_text("203.0.113.66")
    expect(facts).to_contain_text("source.ip")
    expect(facts).to_contain_text("GREEN")
    expect(facts).to_contain_text("vendor-x")
    screenshot(page, "intel-alert.png", tmp_path)


def test_the_store_lists_and_searches_indicators(alert: dict[str, Any], page: Page,
                                                 tmp_path: Path) -> None:
    sign_in(page, ANALYST, then="/intel")
    expect(page.get_by_role("link", name="Intel")).to_have_attribute("aria-current", "page")
    rows = page.locator("table.indicators tbody tr[data-indicator]")
    expect(rows).to_have_count(4)
    expect(page.locator("table[data-stat=kind] tr[data-kind=ipv4] td").first).to_have_text("1")
    expect(page.locator("table[data-stat=source] tr[data-source=vendor-x] td")).to_have_text(
        "4")
    suppressed = rows.filter(has_text="8.8.8.8")
    expect(suppressed).to_contain_text("inactive")
    page.get_by_label("Kind").select_option("cidr")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"kind=cidr"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("198.51.100.0/24")
    page.goto("/intel")
    screenshot(page, "intel.png", tmp_path)


def test_a_false_positive_stops_the_indicator(alert: dict[str, Any], page: Page) -> None:
    indicator = alert["context"]["indicator"]["id"]
    sign_in(page, ANALYST, then=f"/intel/{indicator}")
    expect(page.locator("[data-state]")).to_have_text("matching")
    expect(page.locator("table.sightings tr[data-sighting=seen]")).to_contain_text("system")
    page.get_by_label("Kind").select_option("false-positive")
    page.get_by_label("Note").fill("our own scanner")
    page.get_by_role("button", name="Record").click()
    expect(page).to_have_url(re.compile(rf"/intel/{indicator}$"))
    expect(page.locator("[data-state]")).to_have_text("not matching")
    expect(page.locator("table.sightings tr[data-sighting=false-positive]")).to_contain_text(
        "our own scanner")


def test_a_viewer_sees_no_form_and_a_forged_sighting_is_refused(
        alert: dict[str, Any], page: Page) -> None:
    indicator = alert["context"]["indicator"]["id"]
    sign_in(page, VIEWER, then=f"/intel/{indicator}")
    expect(page.get_by_role("button", name="Record")).to_have_count(0)
    expect(page.get_by_role("button", name="Allow")).to_have_count(0)
    answer = page.request.post(f"/intel/{indicator}/sightings", max_redirects=0, form={
        "csrf_token": csrf_token(page), "kind": "seen", "note": "forged"})
    assert answer.status == 403
    assert "intel:manage" in answer.text()
    page.reload()
    expect(page.locator("table.sightings")).not_to_contain_text("forged")

"""The alert queue and an alert's page in a real browser: events sent over HTTP become
alerts, highest risk first; an analyst acknowledges and closes them; a viewer only looks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from tests.web.seed import ADMIN, EXPECTED_TITLES, VIEWER
from tests.web.ui import csrf_token, expect, screenshot, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

ROWS = "tbody tr[data-alert-id]"


def _risks(page: Page) -> list[int]:
    return [int(text) for text in page.locator(f"{ROWS} .risk").all_inner_texts()]


def _row(page: Page, alert_id: str) -> Locator:
    return page.locator(f'{ROWS}[data-alert-id="{alert_id}"]')


def test_ingested_events_are_alerts_highest_risk_first(page: Page) -> None:
    sign_in(page, ADMIN)
    page.goto("/alerts?status=all")
    expect(page.locator(ROWS)).to_have_count(len(EXPECTED_TITLES))
    titles = set(page.locator(f"{ROWS} td a").all_inner_texts())
    assert titles == EXPECTED_TITLES
    risks = _risks(page)
    assert risks == sorted(risks, reverse=True)
    assert risks[0] > risks[-1], "the example alerts differ in risk"


def test_an_analyst_acknowledges_from_the_queue_and_closes_from_the_alert(
    page: Page, tmp_path: Path
) -> None:
    sign_in(page, ADMIN)
    new = page.locator(f'{ROWS}[data-status="new"]')
    expect(new.first).to_be_visible()
    first = new.first
    alert_id = first.get_attribute("data-alert-id")
    assert alert_id is not None
    title = first.locator("td a").inner_text()
    risk = int(first.locator(".risk").inner_text())
    assert risk == max(int(r) for r in new.locator(".risk").all_inner_texts())

    first.locator("td a").click()
    expect(page).to_have_url(re.compile(rf"/alerts/{alert_id}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    expect(page.locator(".status")).to_have_text("new")
    expect(page.locator("pre").first).to_contain_text("event.id")
    page.go_back()

    row = _row(page, alert_id)
    row.get_by_role("button", name="Acknowledge").click()
    expect(page).to_have_url(re.compile(r"/alerts$"))
    expect(_row(page, alert_id).locator(".status")).to_have_text("acknowledged")
    expect(_row(page, alert_id).get_by_role("button", name="Acknowledge")).to_have_count(0)
    screenshot(page, "alert-queue.png", tmp_path)

    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("row", name=re.compile("^acknowledged"))).to_contain_text("admin")
    page.get_by_label("Verdict").select_option("false_positive")
    page.get_by_label("Note").fill("scheduled scanner, change CHG-1042")
    page.get_by_label("Note").blur()
    screenshot(page, "alert.png", tmp_path)
    page.get_by_role("button", name="Close alert").click()

    expect(page).to_have_url(re.compile(rf"/alerts/{alert_id}$"))
    expect(page.locator(".status")).to_have_text("closed")
    expect(page.get_by_text("verdict false positive")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("^closed"))).to_contain_text("admin at")
    expect(page.get_by_role("row", name=re.compile("^note"))).to_contain_text("CHG-1042")
    expect(page.get_by_role("button", name="Close alert")).to_have_count(0)

    page.goto("/alerts")
    expect(_row(page, alert_id)).to_have_count(0)
    page.goto("/alerts?status=closed")
    expect(_row(page, alert_id)).to_contain_text("closed · false positive")


def test_a_forged_form_without_the_session_csrf_token_is_refused(page: Page) -> None:
    sign_in(page, ADMIN)
    page.goto("/alerts?status=new")
    target = page.locator(ROWS).first.get_attribute("data-alert-id")
    answer = page.request.post(f"/alerts/{target}/acknowledge",
                               form={"csrf_token": "not-the-token"}, max_redirects=0)
    assert answer.status == 403
    assert "CSRF token missing or wrong" in answer.text()  # shown as a page
    page.reload()
    expect(_row(page, str(target))).to_have_attribute("data-status", "new")


def test_a_viewer_sees_the_queue_but_cannot_triage(page: Page) -> None:
    sign_in(page, VIEWER)
    expect(page.locator(ROWS).first).to_be_visible()
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
    target = page.locator(f'{ROWS}[data-status="new"]').first.get_attribute("data-alert-id")
    answer = page.request.post(f"/alerts/{target}/acknowledge",
                               form={"csrf_token": csrf_token(page)}, max_redirects=0)
    assert answer.status == 403
    assert "Not allowed" in answer.text()
    assert "alerts:triage" in answer.text()
    closing = page.request.post(f"/alerts/{target}/close", max_redirects=0,
                                form={"csrf_token": csrf_token(page), "verdict": "benign"})
    assert closing.status == 403
    page.goto(f"/alerts/{target}")
    expect(page.locator(".status")).to_have_text("new")
    expect(page.get_by_role("button", name="Close alert")).to_have_count(0)

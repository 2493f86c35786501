"""The SOC workspace's new pages in a real browser: the dashboard draws its charts, an
analyst acknowledges two alerts at once from the queue, and an administrator adds a user
and revokes a token."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from tests.web.seed import ADMIN, ANALYST, EXPECTED_TITLES
from tests.web.ui import expect, screenshot, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROWS = "tbody tr[data-alert-id]"


def test_the_dashboard_draws_its_charts(page: Page, tmp_path: Path) -> None:
    sign_in(page, ANALYST, then="/dashboard")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dashboard")
    expect(page.locator("header nav a").first).to_have_text("Dashboard")
    expect(page.locator("header nav a").first).to_have_attribute("aria-current", "page")
    expect(page.locator("svg#volume rect")).to_have_count(15)
    heights = page.locator("svg#volume rect").evaluate_all(
        "rects => rects.map(r => Number(r.getAttribute('height')))")
    assert max(heights) > 0, "today's alerts make a bar"
    expect(page.get_by_role("img", name=re.compile("^alerts per day"))).to_be_visible()
    expect(page.locator("svg#trend-mttd circle")).not_to_have_count(0)
    open_counts = page.locator("#open-alerts tbody td:nth-child(2)").all_inner_texts()
    assert len(open_counts) == 5
    assert sum(int(n) for n in open_counts) <= len(EXPECTED_TITLES)
    expect(page.get_by_role("table", name=re.compile("by severity"))).to_be_visible()
    expect(page.locator('#rates tr[data-source="winlog-json"]')).to_be_visible()
    expect(page.locator("#noisiest tbody tr[data-rule-id]")).to_have_count(len(EXPECTED_TITLES))
    screenshot(page, "dashboard.png", tmp_path)


def test_two_alerts_acknowledged_at_once_from_the_queue(page: Page) -> None:
    sign_in(page, ANALYST, then="/alerts?status=new")
    rows = page.locator(ROWS)
    expect(rows.first).to_be_visible()
    assert rows.count() >= 2, "two new alerts are left to acknowledge"
    select_all = page.get_by_label("Select all alerts shown")
    select_all.check()  # the script ticks every row's box, and clears them again
    for box in page.locator(f"{ROWS} input[name=ids]").all():
        expect(box).to_be_checked()
    select_all.uncheck()
    expect(page.locator(f"{ROWS} input[name=ids]:checked")).to_have_count(0)

    chosen = [rows.nth(n).get_attribute("data-alert-id") for n in range(2)]
    for alert_id in chosen:
        page.locator(f'{ROWS}[data-alert-id="{alert_id}"] input[name=ids]').check()
    page.get_by_label("With the selected alerts").select_option("acknowledge")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_role("status")).to_contain_text("2 alert(s) acknowledged")

    page.get_by_role("link", name="Back to the alert queue").click()
    for alert_id in chosen:
        expect(page.locator(f'{ROWS}[data-alert-id="{alert_id}"] .status')).to_have_text(
            "acknowledged")


def test_an_admin_adds_a_user_and_revokes_a_token(page: Page, tmp_path: Path) -> None:
    sign_in(page, ADMIN, then="/admin/users")
    page.get_by_label("Username").fill("newhire")
    page.get_by_label("Role", exact=True).select_option("analyst")
    page.get_by_role("button", name="Create user").click()
    notice = page.get_by_role("status")
    expect(notice).to_contain_text("User newhire (analyst) created")
    password = page.locator("#one-time-password code.secret").inner_text()
    assert len(password) >= 12
    expect(page.locator('tr[data-username="newhire"]')).to_contain_text("active")
    screenshot(page, "admin-users.png", tmp_path)

    page.goto("/admin/tokens")
    page.get_by_label(re.compile("^Name")).fill("retired-sensor")
    page.get_by_role("button", name="Issue ingest token").click()
    expect(page.get_by_role("status")).to_contain_text("Ingest token retired-sensor")
    row = page.locator('tr[data-token-name="retired-sensor"]')
    expect(row.locator(".token-state")).to_have_text("active")
    row.get_by_role("button", name=re.compile("^Revoke token retired-sensor")).click()
    expect(page).to_have_url(re.compile(r"/admin/tokens$"))
    expect(row.locator(".token-state")).to_contain_text("revoked")
    expect(row.get_by_role("button", name=re.compile("^Revoke"))).to_have_count(0)
    screenshot(page, "admin-tokens.png", tmp_path)

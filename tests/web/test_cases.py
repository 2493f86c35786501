"""Cases in a real browser: an alert produced by ingested events is promoted to a case,
which gets a task, a comment and a status change, all on its timeline."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from tests.web.seed import ADMIN
from tests.web.ui import expect, screenshot, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_an_alert_promoted_to_a_case_and_worked(page: Page, tmp_path: Path) -> None:
    sign_in(page, ADMIN, then="/alerts?status=all")
    first = page.locator("tbody tr[data-alert-id]").first
    title = first.locator("td a").inner_text()
    first.locator("td a").click()
    page.get_by_role("button", name="Promote to case").click()
    expect(page).to_have_url(re.compile(r"/cases/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    expect(page.locator("[data-case-status]")).to_have_text("new")

    page.get_by_role("textbox", name="Task").fill("Isolate the host")
    page.get_by_role("button", name="Add task").click()
    expect(page.locator(".case-tasks li")).to_contain_text("Isolate the host")

    page.get_by_role("textbox", name="Comment").fill("Looks like a real intrusion, @admin")
    page.get_by_role("button", name="Comment").click()
    expect(page.locator(".case-comments li")).to_contain_text("a real intrusion")

    page.get_by_role("combobox", name="Move to").select_option("contained")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("[data-case-status]")).to_have_text("contained")
    timeline = page.locator("table.timeline tbody")
    expect(timeline).to_contain_text("status: new → contained")
    expect(timeline).to_contain_text("case.add_task")
    screenshot(page, "case.png", tmp_path)

    page.goto("/cases")
    expect(page.locator("tbody tr[data-case-id]")).to_have_count(1)
    expect(page.locator("tbody tr[data-case-id]")).to_contain_text("contained")

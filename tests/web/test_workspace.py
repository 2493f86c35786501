"""The SOC workspace in a real browser: the outgoing analyst writes a handover, the
incoming one acknowledges it; the metrics page shows MTTD for the ingested alerts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from tests.web.seed import ADMIN, ANALYST, EXPECTED_TITLES
from tests.web.ui import expect, screenshot, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_a_handover_written_and_acknowledged(page: Page, tmp_path: Path) -> None:
    sign_in(page, ADMIN, then="/handover")
    page.get_by_role("button", name="Write handover").click()
    expect(page).to_have_url(re.compile(r"/handover$"))
    latest = page.locator("section[aria-labelledby=latest-heading]")
    expect(latest.get_by_role("heading", level=3, name="Open alerts")).to_be_visible()
    expect(latest).to_contain_text("written by admin")
    expect(latest.get_by_role("button", name="Acknowledge: I take over")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, ANALYST, then="/handover")
    page.get_by_role("button", name="Acknowledge: I take over").click()
    expect(page.locator("section[aria-labelledby=latest-heading]")).to_contain_text(
        "Acknowledged by analyst1")
    expect(page.get_by_role("button", name="Acknowledge: I take over")).to_have_count(0)
    screenshot(page, "handover.png", tmp_path)


def test_the_metrics_page_shows_mttd(page: Page, tmp_path: Path) -> None:
    sign_in(page, ANALYST, then="/kpi")
    mttd = page.locator('tr[data-metric="mttd"]')
    expect(mttd).to_contain_text("Time to detect (MTTD)")
    cells = mttd.locator("td").all_inner_texts()
    assert int(cells[-1]) == len(EXPECTED_TITLES), "every ingested alert is measured"
    assert cells[0].strip() not in ("", "—"), "a mean time to detect is shown"
    expect(page.locator("svg#volume rect")).not_to_have_count(0)
    screenshot(page, "metrics.png", tmp_path)

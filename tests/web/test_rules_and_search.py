"""The rules page (exceptions, switching rules off and on) and the search page, in a real
browser: the happy paths, and what a person sees when they get something wrong."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tests.web.seed import ADMIN, RECENT_PROCESSES, VIEWER
from tests.web.ui import expect, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Dialog, Page

WHOAMI = "Account Discovery With whoami"


def test_an_exception_is_added_listed_and_removed(page: Page) -> None:
    sign_in(page, ADMIN, then="/rules")
    reason = "vulnerability scanner scan-01 runs whoami nightly"
    page.get_by_label("Rule ids or titles").fill(WHOAMI)
    page.get_by_label("Reason").fill(reason)
    page.get_by_label("Match").fill('{"Computer": "scan-01.corp.example"}')
    page.get_by_role("button", name="Add exception").click()

    expect(page).to_have_url(re.compile(r"/rules$"))
    row = page.locator("tr[data-exception-id]", has_text=reason)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(WHOAMI)
    expect(row).to_contain_text('{"Computer": "scan-01.corp.example"}')
    expect(row).to_contain_text("admin")

    row.get_by_role("button", name=f"Remove exception: {reason}").click()
    expect(page).to_have_url(re.compile(r"/rules$"))
    expect(page.locator("tr[data-exception-id]", has_text=reason)).to_have_count(0)


def test_a_bad_exception_is_explained_on_the_page_and_the_form_kept(page: Page) -> None:
    sign_in(page, ADMIN, then="/rules")
    before = page.locator("tr[data-exception-id]").count()
    page.get_by_label("Reason").fill("a typo in the JSON")
    page.get_by_label("Match").fill('{"Computer": "scan-01"')
    with page.expect_response(lambda r: r.url.endswith("/rules/exceptions")) as answer:
        page.get_by_role("button", name="Add exception").click()
    assert answer.value.status == 400
    expect(page.get_by_role("alert")).to_contain_text("match is not valid JSON")
    expect(page.get_by_label("Reason")).to_have_value("a typo in the JSON")
    expect(page.get_by_label("Match")).to_have_value('{"Computer": "scan-01"')
    expect(page.locator("tr[data-exception-id]")).to_have_count(before)

    page.get_by_label("Match").fill('"scan-01"')
    page.get_by_role("button", name="Add exception").click()
    expect(page.get_by_role("alert")).to_contain_text("'match' must be a Sigma detection map")
    expect(page.locator("tr[data-exception-id]")).to_have_count(before)


def test_the_admin_disables_a_rule_and_enables_it_again(page: Page) -> None:
    sign_in(page, ADMIN, then="/rules")
    row = page.locator("tr[data-rule-id]", has_text=WHOAMI)
    expect(row.locator(".state")).to_have_text("enabled")
    active = page.get_by_role("heading", level=1)
    expect(active).to_contain_text(re.compile(r"\(\d+ active"))
    count = int(re.findall(r"\((\d+) active", active.inner_text())[0])

    row.get_by_role("button", name=f"Disable rule: {WHOAMI}").click()
    expect(row.locator(".state")).to_have_text("disabled")
    expect(active).to_contain_text(f"({count - 1} active")

    row.get_by_role("button", name=f"Enable rule: {WHOAMI}").click()
    expect(row.locator(".state")).to_have_text("enabled")
    expect(active).to_contain_text(f"({count} active")


def test_a_viewer_reads_the_rules_but_changes_nothing(page: Page) -> None:
    sign_in(page, VIEWER)
    page.goto("/rules")
    expect(page.locator("tr[data-rule-id]", has_text=WHOAMI)).to_have_count(1)
    expect(page.get_by_role("button", name=re.compile("^(Disable|Enable|Remove)"))).to_have_count(0)
    expect(page.get_by_role("button", name="Add exception")).to_have_count(0)


def test_a_search_shows_matching_rows_and_the_histogram(page: Page) -> None:
    sign_in(page, VIEWER)
    page.get_by_role("link", name="Search").click()
    page.get_by_label("query").fill("EventID:4688")
    page.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(r"/search\?q=EventID%3A4688&range=24h$"))
    expect(page.get_by_text(f"{RECENT_PROCESSES} event(s)")).to_be_visible()
    rows = page.locator("table.results tbody tr")
    expect(rows).to_have_count(RECENT_PROCESSES)
    for text in rows.all_inner_texts():
        assert "4688" in text
        assert "notepad.exe" in text
    bars = page.locator(".histogram > div")
    assert bars.count() > 1
    heights = [int(re.findall(r"height: (\d+)%", style)[0])
               for style in (b.get_attribute("style") or "" for b in bars.all())]
    assert max(heights) == 100
    assert sum(1 for h in heights if h > 0) >= 1
    expect(page.get_by_role("img", name=re.compile("events over time"))).to_be_visible()


def test_a_search_across_all_time_finds_the_older_events(page: Page) -> None:
    sign_in(page, VIEWER)
    page.goto("/search?q=EventID%3A1102")
    expect(page.locator("table.results tbody tr")).to_have_count(0)
    page.get_by_label("time range").select_option("all")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table.results tbody tr")).to_have_count(1)
    expect(page.locator("table.results tbody tr")).to_contain_text("dc-01.corp.example")


def test_a_bad_query_is_explained_on_the_page(page: Page) -> None:
    sign_in(page, VIEWER)
    answer = page.goto("/search?q=EventID%3A(4688")
    assert answer is not None
    assert answer.status == 200
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("alert")).not_to_be_empty()
    expect(page.get_by_label("query")).to_have_value("EventID:(4688")
    expect(page.locator("table.results")).to_have_count(0)


def test_a_query_is_shown_as_text_never_run_as_markup(page: Page) -> None:
    dialogs: list[str] = []

    def opened(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", opened)
    sign_in(page, VIEWER)
    hostile = '"<script>alert(1)</script>"'
    page.goto("/search")
    page.get_by_label("query").fill(hostile)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_label("query")).to_have_value(hostile)
    assert page.locator("script").count() == 0
    assert dialogs == []

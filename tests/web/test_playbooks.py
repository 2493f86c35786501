"""Response automation in a real browser: a responder starts a playbook from its page, it
waits on /approvals, an analyst approves and the run goes on to notify, open a case and
add a task; a viewer only looks, and a decision forged by one is refused; a dry run
reports what a run would do; a playbook file that does not load is shown with its
problems; a playbook started from a case page runs on that case.

The module has a server of its own (the ``live`` fixture below replaces the shared one),
with a folder of playbooks that act only inside Watchkeeper, so that no connector is
needed, and so that the cases its runs open are not seen by the other modules."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.serverfixtures import EXAMPLE_RULES
from tests.web.liveserver import LiveServer
from tests.web.seed import ADMIN, ANALYST, RESPONDER, VIEWER
from tests.web.ui import csrf_token, expect, screenshot, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

PHISHING = """
name: report-phishing
title: Answer a reported phishing mail
description: An analyst confirms, the responders are told, a case and a task follow.
triggers:
  - manual: {}
inputs:
  sender: {type: string, required: true, description: the sender's address}
  urgent: {type: boolean, default: false}
steps:
  - id: confirm
    approval:
      prompt: "Treat mail from {{ inputs.sender }} as phishing?"
      approvers: {roles: [analyst]}
      timeout: 1h
  - id: tell
    notify: {role: responder, message: "Phishing from {{ inputs.sender }} confirmed"}
  - id: open
    case: {title: "Phishing from {{ inputs.sender }}", severity: high}
  - id: escalate
    if: "{{ inputs.urgent }}"
    then:
      - id: raise
        set_case: {severity: critical}
  - id: purge
    task: {title: "Purge the mail from {{ inputs.sender }}", role: analyst, due_in: 4h}
tests:
  - name: confirmed
    inputs: {sender: mallory@phish.example}
"""
TRIAGE = """
name: triage-case
title: Add the triage tasks to a case
steps:
  - id: open
    case: {title: "Triage", severity: medium}
  - id: headers
    task: {title: "Collect the mail headers", role: analyst}
"""
BROKEN = """
name: isolate-host
title: Isolate a host
steps:
  - id: isolate
    action: edr.isolate_host
    with: {host: "{{ inputs.host }}"}
  - id: ask
    approval: {prompt: "Isolate?", approvers: {roles: [nobody]}}
"""


@pytest.fixture(scope="module")
def live(chromium_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of this module's own, with its playbook folder and one user per role."""
    folder = tmp_path_factory.mktemp("playbooks")
    for name, text in (("phishing.yml", PHISHING), ("triage.yml", TRIAGE),
                       ("isolate.yml", BROKEN)):
        (folder / name).write_text(text, encoding="utf-8")
    server = LiveServer.start(tmp_path_factory.mktemp("response-site"), EXAMPLE_RULES,
                              ADMIN[1], playbooks=[folder])
    try:
        for (username, password), role in ((VIEWER, "viewer"), (ANALYST, "analyst"),
                                           (RESPONDER, "responder")):
            server.add_user(username, role, password)
        yield server
    finally:
        server.stop()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))


def start_phishing_run(page: Page, sender: str) -> str:
    """As the responder signed in on ``page``: start the playbook; the run page's path."""
    page.goto("/playbooks/report-phishing")
    page.get_by_label("sender").fill(sender)
    page.get_by_role("button", name="Start run").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    return "/" + page.url.split("/", 3)[3]


def test_a_run_waits_for_an_analyst_who_approves_it_and_it_succeeds(
    page: Page, tmp_path: Path,
) -> None:
    sign_in(page, RESPONDER, then="/playbooks")
    row = page.locator("tr[data-playbook=report-phishing]")
    expect(row).to_contain_text("manual only")
    expect(row).to_contain_text("file")
    row.get_by_role("link", name="report-phishing").click()
    steps = page.locator("ol.steps")
    expect(steps.locator("li[data-step=confirm]")).to_contain_text("role analyst")
    expect(steps.locator("li[data-step=confirm]")).to_contain_text("1h 0m, then reject")
    expect(steps.locator("li[data-step=escalate] li[data-step=raise]")).to_contain_text(
        "severity = critical")
    run_path = start_phishing_run(page, "mallory@phish.example")
    expect(page.locator("[data-run-status]")).to_have_text("waiting")
    expect(page.locator("table.run-approvals tbody tr")).to_contain_text("pending")
    expect(page.locator("table.run-steps")).to_contain_text("waiting")
    sign_out(page)

    sign_in(page, ANALYST, then="/approvals")
    asked = page.locator("section.approval", has_text="mallory@phish.example")
    expect(asked).to_contain_text("report-phishing")
    expect(asked.locator(".deciders")).to_contain_text("role analyst")
    expect(asked).to_contain_text("reject by default")
    expect(asked.get_by_role("link", name=re.compile(r"run \d+"))).to_have_attribute(
        "href", run_path)
    asked.get_by_label("Comment").fill("headers checked")
    screenshot(page, "approvals.png", tmp_path)
    asked.get_by_role("button", name="Approve").click()

    expect(page).to_have_url(re.compile(re.escape(run_path) + "$"))
    expect(page.locator("[data-run-status]")).to_have_text("succeeded")
    expect(page.locator(".run-path")).to_have_text("confirm → tell → open → escalate → purge")
    for step in ("confirm", "tell", "open", "purge"):
        expect(page.locator(f"table.run-steps tr[data-step={step}]")).to_have_attribute(
            "data-status", "done")
    expect(page.locator("table.run-approvals")).to_contain_text(
        "analyst1: approve “headers checked”")
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    screenshot(page, "playbook-run.png", tmp_path)

    page.get_by_role("link", name=re.compile(r"^case \d+$")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Phishing from mallory@phish.example")
    expect(page.locator(".case-tasks")).to_contain_text("Purge the mail from mallory@phish")
    response = page.locator("section.case-response")
    expect(response.locator(f'a[href="{run_path}"]')).to_have_count(1)
    expect(response).to_contain_text("succeeded")
    expect(response.get_by_role("button", name="Start playbook")).to_have_count(0)

    page.goto("/approvals")
    expect(page.locator("section.approval", has_text="mallory@phish.example")).to_have_count(0)


def test_a_viewer_sees_the_approval_without_buttons_and_a_forged_decision_is_refused(
    page: Page,
) -> None:
    sign_in(page, RESPONDER, then="/playbooks")
    run_path = start_phishing_run(page, "eve@phish.example")
    sign_out(page)

    sign_in(page, VIEWER, then="/approvals")
    asked = page.locator("section.approval", has_text="eve@phish.example")
    expect(asked).to_be_visible()
    expect(asked.get_by_role("button", name="Approve")).to_have_count(0)
    expect(asked.get_by_role("button", name="Reject")).to_have_count(0)
    expect(asked).to_contain_text("You may not decide this one")
    approval_id = asked.get_attribute("data-approval-id")
    forged = page.request.post(f"/approvals/{approval_id}/decide", form={
        "csrf_token": csrf_token(page), "decision": "approve"}, max_redirects=0)
    assert forged.status == 403
    assert "approvals:decide" in forged.text()
    started = page.request.post("/playbooks/report-phishing/run", form={
        "csrf_token": csrf_token(page), "input.sender": "x@example.org"}, max_redirects=0)
    assert started.status == 403
    page.goto("/playbooks/report-phishing")
    expect(page.get_by_role("button", name="Start run")).to_have_count(0)
    expect(page.get_by_role("button", name="Dry run")).to_have_count(0)
    page.goto(run_path)
    expect(page.locator("[data-run-status]")).to_have_text("waiting")
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    sign_out(page)

    sign_in(page, RESPONDER, then=run_path)
    page.get_by_role("button", name="Cancel run").click()
    expect(page.locator("[data-run-status]")).to_have_text("cancelled")
    expect(page.locator("table.run-approvals tbody tr")).to_contain_text("cancelled")


def test_a_dry_run_shows_what_each_step_would_do_and_starts_nothing(
    page: Page, tmp_path: Path,
) -> None:
    sign_in(page, RESPONDER, then="/playbooks/report-phishing")
    runs = page.locator("table.runs tbody tr[data-run-id]").count()
    page.get_by_label("sender").fill("trent@phish.example")
    page.get_by_label("urgent").select_option("true")
    page.get_by_role("button", name="Dry run").click()
    report = page.locator("#dry-run")
    expect(report.get_by_role("heading", level=2)).to_contain_text("succeeded")
    rows = report.locator("table.dry-run tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.nth(0)).to_contain_text("ask role analyst: Treat mail from trent@phish.example")
    expect(report.locator("tr[data-step=tell]")).to_contain_text("notify responder")
    expect(report.locator("tr[data-step='escalate.raise']")).to_contain_text("severity")
    expect(report.locator("ul.blast-radius")).to_contain_text("No target outside Watchkeeper")
    expect(page.get_by_label("sender")).to_have_value("trent@phish.example")
    expect(page.locator("table.runs tbody tr[data-run-id]")).to_have_count(runs)
    report.scroll_into_view_if_needed()
    screenshot(page, "playbook-dry-run.png", tmp_path)


def test_a_playbook_file_that_does_not_load_is_shown_with_its_problems(page: Page) -> None:
    sign_in(page, VIEWER, then="/playbooks")
    errors = page.locator("section.load-errors")
    expect(errors).to_be_visible()
    expect(errors.get_by_role("heading")).to_have_text("1 playbook file not loaded")
    broken = errors.locator("li[data-location$='isolate.yml']")
    expect(broken).to_contain_text("unknown action 'edr.isolate_host'")
    expect(broken).to_contain_text("unknown role 'nobody'")
    expect(page.locator("tr[data-playbook]")).to_have_count(2)
    expect(page.locator("tr[data-playbook=isolate-host]")).to_have_count(0)


def test_a_playbook_started_from_a_case_page_runs_on_that_case(page: Page) -> None:
    sign_in(page, RESPONDER, then="/playbooks/triage-case")
    page.get_by_role("button", name="Start run").click()
    expect(page.locator("[data-run-status]")).to_have_text("succeeded")
    page.get_by_role("link", name=re.compile(r"^case \d+$")).first.click()
    expect(page).to_have_url(re.compile(r"/cases/\d+$"))
    case_path = "/" + page.url.split("/", 3)[3]
    response = page.locator("section.case-response")
    expect(response.locator("tbody tr[data-run-id]")).to_have_count(1)
    picker = response.get_by_role("combobox", name="Playbook")
    expect(picker.locator("option")).to_have_text(["triage-case"])
    expect(response).to_contain_text("1 playbook(s) need inputs")
    response.get_by_role("button", name="Start playbook").click()

    expect(page.locator("[data-run-status]")).to_have_text("succeeded")
    expect(page.get_by_role("link", name=re.compile(r"^case \d+$")).first).to_have_attribute(
        "href", case_path)
    page.goto(case_path)
    expect(page.locator("section.case-response tbody tr[data-run-id]")).to_have_count(2)
    expect(page.locator(".case-tasks li", has_text="Collect the mail headers")).to_have_count(2)
    expect(page.locator("section.case-response")).not_to_contain_text("Roll back")

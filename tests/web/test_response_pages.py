"""The response pages over HTTP, with stand-in actions: containment rolled back from a
case page, four eyes on the approvals page, refused decisions and inputs shown as pages,
and who sees which buttons."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.response.fakes import Block, Connectors, Lookup, Remote, Unblock
from tests.serverfixtures import Api, make_settings, open_api
from watchkeeper.cases.service import NewCase

CONTAIN = """
name: contain-ip
title: Block an address for two hours
inputs:
  ip: {type: string, required: true}
steps:
  - id: lookup
    action: fake.lookup
    with: {host: "fw-{{ inputs.ip }}"}
  - id: block
    action: fake.block_ip
    connector: edge
    with: {ip: "{{ inputs.ip }}"}
    ttl: 2h
"""
FOUR_EYES = """
name: disable-account
title: Disable an account, with four eyes
inputs:
  user: {type: string, required: true}
  days: {type: integer, default: 1}
steps:
  - id: ask
    approval:
      prompt: "Disable {{ inputs.user }} for {{ inputs.days }} days?"
      approvers: {roles: [analyst, responder]}
      four_eyes: true
      timeout: 30m
      default: approve
  - id: tell
    notify: {role: analyst, message: "{{ inputs.user }} disabled"}
"""


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """A server whose playbooks act through stand-in actions and an ``edge`` connector."""
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "contain.yml").write_text(CONTAIN, encoding="utf-8")
    (folder / "four-eyes.yml").write_text(FOUR_EYES, encoding="utf-8")
    settings = make_settings(tmp_path / "data", rules={"paths": []},
                             response={"playbooks": [folder], "builtin_playbooks": False})
    for api in open_api(settings):
        response = api.services.response
        remote = Remote()
        for action in (Block(remote), Unblock(remote), Lookup(remote)):
            response.actions.register(action)
        response.caller.connectors = Connectors("edge")
        response.reload(force=True)
        assert not response.errors, response.errors
        yield api


def _approval_of(api: Api, run_id: int) -> int:
    return int(api.services.response.approvals.find(run_id=run_id)[0]["id"])


def test_containment_started_on_a_case_is_rolled_back_from_the_case_page(api: Api) -> None:
    case = api.services.cases.create("analyst", NewCase(title="Beaconing"))
    csrf = api.login("responder")
    started = api.client.post("/playbooks/contain-ip/run", data={
        "csrf_token": csrf, "input.ip": "203.0.113.9"}, follow_redirects=False)
    assert started.status_code == 303, started.text
    run_id = int(started.headers["location"].rsplit("/", 1)[1])
    run = api.client.get(f"/runs/{run_id}").text
    assert 'data-run-status="succeeded"' in run
    assert "203.0.113.9" in run
    assert "Roll back" in run
    # the same playbook on the case: its containment is the case's
    on_case = api.client.post(f"/cases/{case['id']}/playbooks", data={
        "csrf_token": csrf, "playbook": "contain-ip"})
    assert on_case.status_code == 400, "it needs an input"
    assert "inputs.ip: required" in on_case.text
    run = api.services.response.start_manual("responder", "contain-ip", {"ip": "198.51.100.4"},
                                             case_id=case["id"])
    assert run["status"] == "succeeded", run
    page = api.client.get(f"/cases/{case['id']}").text
    section = page[page.index('class="case-response"'):]
    assert f'href="/runs/{run["id"]}"' in section
    assert "198.51.100.4" in section
    assert "2 playbook(s) need inputs" in section
    entry = api.services.response.ledger.find(case_id=case["id"])[0]
    assert f'action="/containment/{entry["id"]}/rollback"' in section
    assert '<input type="hidden" name="back" value="case">' in section

    rolled = api.client.post(f"/containment/{entry['id']}/rollback", data={
        "csrf_token": csrf, "reason": "false positive", "back": "case"}, follow_redirects=False)
    assert rolled.status_code == 303
    assert rolled.headers["location"] == f"/cases/{case['id']}"
    assert api.services.response.ledger.get(entry["id"])["status"] == "rolled_back"
    listing = api.client.get("/containment?status=rolled_back").text
    assert f'data-containment-id="{entry["id"]}" data-status="rolled_back"' in listing
    assert "by responder" in listing
    again = api.client.post(f"/containment/{entry['id']}/rollback", data={
        "csrf_token": csrf, "back": "elsewhere"})
    assert again.status_code == 422, "back names one of the pages only"

    api.login("viewer")
    listing = api.client.get("/containment").text
    assert 'data-status="active"' in listing
    assert "/rollback\"" not in listing
    assert "Start playbook" not in api.client.get(f"/cases/{case['id']}").text


def test_four_eyes_on_the_approvals_page(api: Api) -> None:
    csrf = api.login("responder")
    started = api.client.post("/playbooks/disable-account/run", data={
        "csrf_token": csrf, "input.user": "bob", "input.days": "3"}, follow_redirects=False)
    assert started.status_code == 303, started.text
    run_id = int(started.headers["location"].rsplit("/", 1)[1])
    approval_id = _approval_of(api, run_id)
    own = api.client.get("/approvals").text
    assert "Disable bob for 3 days?" in own
    assert "four eyes: 2 people, not responder" in own
    assert "approve</strong> by default" in own
    assert 'action="/approvals/' not in own, "who started the run may not approve it"
    refused = api.client.post(f"/approvals/{approval_id}/decide", data={
        "csrf_token": csrf, "decision": "approve"})
    assert refused.status_code == 403
    assert "four eyes" in refused.text

    csrf = api.login("analyst")
    assert f'action="/approvals/{approval_id}/decide"' in api.client.get("/approvals").text
    first = api.client.post(f"/approvals/{approval_id}/decide", data={
        "csrf_token": csrf, "decision": "approve", "comment": "  seen it  "})
    assert first.status_code == 200
    assert 'data-run-status="waiting"' in first.text
    assert "analyst: approve “seen it”" in html.unescape(first.text)
    listing = api.client.get("/approvals").text
    assert "1 of 2 approvals" in listing
    assert "you have decided already" in listing
    twice = api.client.post(f"/approvals/{approval_id}/decide", data={
        "csrf_token": csrf, "decision": "approve"})
    assert twice.status_code == 409
    assert "four eyes need someone else" in twice.text

    csrf = api.login("admin")
    done = api.client.post(f"/approvals/{approval_id}/decide", data={
        "csrf_token": csrf, "decision": "approve"})
    assert 'data-run-status="succeeded"' in done.text, "the run went on at once"
    assert "No pending approvals" in api.client.get("/approvals").text
    decided = api.client.get("/approvals?status=approved").text
    assert "Disable bob for 3 days?" in decided
    assert 'action="/approvals/' not in decided
    assert api.client.get("/approvals?status=maybe").status_code == 400


def test_refused_inputs_come_back_as_the_form_as_typed(api: Api) -> None:
    csrf = api.login("responder")
    bad = api.client.post("/playbooks/disable-account/run", data={
        "csrf_token": csrf, "input.user": "carol", "input.days": "three"})
    assert bad.status_code == 400
    assert "run not started: input &#39;days&#39; must be a whole number" in bad.text
    assert 'value="carol"' in bad.text
    assert 'value="three"' in bad.text
    missing = api.client.post("/playbooks/disable-account/dry-run", data={"csrf_token": csrf})
    assert missing.status_code == 400
    assert "dry run not possible: inputs.user: required" in missing.text
    report = api.client.post("/playbooks/contain-ip/dry-run", data={
        "csrf_token": csrf, "input.ip": "192.0.2.55"})
    assert report.status_code == 200
    blast = report.text[report.text.index('class="blast-radius"'):]
    assert "<code>192.0.2.55</code>" in blast[:blast.index("</ul>")]
    assert "fake.unblock_ip · 2h 0m" in report.text
    assert api.services.response.runs.find()[1] == 0, "a dry run starts nothing"
    assert api.client.get("/playbooks/no-such-playbook").status_code == 404
    assert api.client.get("/runs?status=sleeping").status_code == 400


def test_the_playbook_page_shows_the_steps_and_the_runs(api: Api) -> None:
    api.services.response.start_manual("responder", "contain-ip", {"ip": "192.0.2.1"})
    api.login("viewer")
    listing = api.client.get("/playbooks").text
    assert 'class="error load-errors"' not in listing
    row = listing[listing.index('<tr data-playbook="contain-ip">'):]
    assert "manual only" in row[:row.index("</tr>")]
    page = api.client.get("/playbooks/contain-ip").text
    block = page[page.index('data-step="block"'):]
    block = block[:block.index("</li>")]
    for text in ("fake.block_ip", "edge", "rolled back after 2h 0m", "timeout"):
        assert text in block
    assert re.search(r'<tr data-run-id="\d+" data-status="succeeded">', page)
    assert "Start run" not in page
    runs = api.client.get("/runs?playbook=contain-ip").text
    assert 'data-status="succeeded"' in runs
    assert 'data-run-id' not in api.client.get("/runs?playbook=disable-account").text

"""Response automation through the API, on a real server: runs, approvals, refusals."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.serverfixtures import EXAMPLE_PLAYBOOKS, Api, make_settings, open_api
from watchkeeper.response.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

BROKEN = """
name: broken-one
title: Refers to what does not exist
steps:
  - id: first
    action: nothing.here
    with: {}
  - id: second
    approval: {prompt: "ok?", approvers: {roles: [wizard]}}
"""
NOT_YAML = "name: [unclosed\n"
HOOKED = """
name: from-ticketing
title: Started by the ticketing system
triggers:
  - webhook: {secret: ticketing-hook}
inputs:
  ticket: {type: string, required: true}
steps:
  - id: tell
    notify: {role: analyst, message: "Ticket {{ inputs.ticket }} asks for a look"}
"""


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "confirm.yml").write_text(
        (EXAMPLE_PLAYBOOKS / "confirm-and-open-case.yml").read_text("utf-8"), "utf-8")
    (folder / "broken.yml").write_text(BROKEN, "utf-8")
    (folder / "not-yaml.yml").write_text(NOT_YAML, "utf-8")
    (folder / "hooked.yml").write_text(HOOKED, "utf-8")
    yield from open_api(make_settings(tmp_path / "data",
                                      response={"playbooks": [folder]}))


def test_a_run_started_by_hand_waits_for_an_approval_then_opens_a_case(api: Api) -> None:
    client = api.client
    started = client.post("/api/v1/playbooks/confirm-and-open-case/runs",
                          json={"inputs": {"reason": "phone call from the CFO"}},
                          headers=api.bearer("responder"))
    assert started.status_code == 201, started.text
    assert started.json()["status"] == "queued"
    run = client.get(f"/api/v1/playbook-runs/{started.json()['id']}",
                     headers=api.bearer("viewer")).json()
    assert run["status"] == "waiting"
    assert run["waiting_for"] == "approval at confirm"
    listed = client.get("/api/v1/approvals", headers=api.bearer("analyst")).json()
    [approval] = [a for a in listed if a["run_id"] == run["id"]]
    assert approval["may_decide"] is True
    assert approval["prompt"] == "Open a case (phone call from the CFO)?"
    as_viewer = client.get("/api/v1/approvals", headers=api.bearer("viewer")).json()
    assert [a["may_decide"] for a in as_viewer if a["id"] == approval["id"]] == [False]
    refused = client.post(f"/api/v1/approvals/{approval['id']}/decision",
                          json={"decision": "approve"}, headers=api.bearer("viewer"))
    assert refused.status_code == 403
    assert "approvals:decide" in refused.json()["message"]
    decided = client.post(f"/api/v1/approvals/{approval['id']}/decision",
                          json={"decision": "approve", "comment": "confirmed"},
                          headers=api.bearer("analyst"))
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    done = client.get(f"/api/v1/playbook-runs/{run['id']}", headers=api.bearer("viewer")).json()
    assert done["status"] == "succeeded", done
    assert done["path"] == ["confirm", "open", "check_host", "tell"]
    case = client.get(f"/api/v1/cases/{done['case_id']}", headers=api.bearer("viewer")).json()
    assert case["title"] == "phone call from the CFO"
    assert [t["title"] for t in case["tasks"]] == ["Check the host and the user of the alert"]
    again = client.post(f"/api/v1/approvals/{approval['id']}/decision",
                        json={"decision": "reject"}, headers=api.bearer("responder"))
    assert again.status_code == 409
    audit = client.get("/api/v1/audit", params={"limit": 200},
                       headers=api.bearer("admin")).json()
    entries = audit["entries"] if isinstance(audit, dict) else audit
    decisions = [e for e in entries if e["action"] == "approval.decide"]
    assert [e["actor"] for e in decisions] == ["analyst"]


def test_template_text_in_the_inputs_stays_text(api: Api) -> None:
    run = api.client.post("/api/v1/playbooks/confirm-and-open-case/runs",
                          json={"inputs": {"reason": "{{ 7*7 }} {{ ''.__class__ }}"}},
                          headers=api.bearer("responder")).json()
    [approval] = api.client.get("/api/v1/approvals", params={"run_id": run["id"]},
                                headers=api.bearer("admin")).json()
    assert approval["prompt"] == "Open a case ({{ 7*7 }} {{ ''.__class__ }})?"


def test_who_may_start_and_what_is_refused(api: Api) -> None:
    client = api.client
    for role in ("viewer", "analyst"):
        answer = client.post("/api/v1/playbooks/confirm-and-open-case/runs", json={},
                             headers=api.bearer(role))
        assert answer.status_code == 403
    unknown = client.post("/api/v1/playbooks/nope/runs", json={},
                          headers=api.bearer("responder"))
    assert unknown.status_code == 404
    no_case = client.post("/api/v1/playbooks/confirm-and-open-case/runs",
                          json={"case_id": 987654}, headers=api.bearer("responder"))
    assert no_case.status_code == 404
    assert no_case.json()["message"] == "no case 987654"
    bad_input = client.post("/api/v1/playbooks/confirm-and-open-case/runs",
                            json={"inputs": {"colour": "red"}}, headers=api.bearer("responder"))
    assert bad_input.status_code == 400
    assert "unknown input colour" in bad_input.json()["message"]


def test_broken_playbooks_are_reported_with_place_and_reason(api: Api) -> None:
    listed = api.client.get("/api/v1/playbooks", headers=api.bearer("viewer")).json()
    names = [p["name"] for p in listed["playbooks"]]
    assert "confirm-and-open-case" in names
    assert "broken-one" not in names
    errors = {Path(e["location"].split(":")[0]).name: e["problems"] for e in listed["errors"]}
    assert any("steps.first.action: unknown action 'nothing.here'" in p
               for p in errors["broken.yml"])
    assert any("unknown role 'wizard'" in p for p in errors["broken.yml"])
    assert any("invalid YAML" in p for p in errors["not-yaml.yml"])
    not_yaml = next(e for e in listed["errors"] if "not-yaml" in e["location"])
    assert not_yaml["location"].endswith(":2") or not_yaml["location"].endswith(":1")


def test_a_dry_run_reports_and_does_nothing(api: Api) -> None:
    report = api.client.post("/api/v1/playbooks/confirm-and-open-case/dry-run",
                             json={"trigger": {"alert": {"rule_title": "Mimikatz",
                                                         "level": "critical",
                                                         "entities": {"host": "ws1"}}}},
                             headers=api.bearer("responder"))
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["status"] == "succeeded"
    assert [s["kind"] for s in body["steps"]] == ["approval", "case", "task", "notify"]
    assert body["steps"][1]["summary"] == "open a case: Mimikatz"
    runs = api.client.get("/api/v1/playbook-runs", headers=api.bearer("viewer")).json()
    assert runs["total"] == 0
    cases = api.client.get("/api/v1/cases", headers=api.bearer("viewer")).json()
    assert (cases["total"] if isinstance(cases, dict) else len(cases)) == 0


def test_a_signed_webhook_starts_one_run_per_delivery(api: Api) -> None:
    key = "k" * 64
    api.services.response.connectors.put("admin", "ticketing-hook", "inbound-webhook", {},
                                         {"signing_key": key})
    client = api.client
    url = "/api/v1/playbooks/from-ticketing/webhook"

    def post(body: bytes, stamp: int | None = None, signature: str | None = None,
             to: str = url) -> httpx.Response:
        stamp = int(time.time()) if stamp is None else stamp
        return client.post(to, content=body, headers={
            TIMESTAMP_HEADER: str(stamp),
            SIGNATURE_HEADER: signature or sign(key, stamp, body)})

    body = json.dumps({"ticket": "INC-7", "extra": "kept in the trigger"}).encode()
    stamp = int(time.time())
    answer = post(body, stamp)
    assert answer.status_code == 202, answer.text
    run = client.get(f"/api/v1/playbook-runs/{answer.json()['run_id']}",
                     headers=api.bearer("viewer")).json()
    assert run["inputs"] == {"ticket": "INC-7"}
    assert run["trigger"]["webhook"]["extra"] == "kept in the trigger"
    assert run["started_by"] == "webhook:from-ticketing"
    replay = post(body, stamp)
    assert replay.status_code == 401
    assert post(body, signature="sha256=" + "0" * 64).status_code == 401
    assert post(body, int(time.time()) - 3600).status_code == 401
    assert client.post(url, content=body).status_code == 401
    assert post(body, to="/api/v1/playbooks/confirm-and-open-case/webhook").status_code == 401
    assert post(body, to="/api/v1/playbooks/no-such-playbook/webhook").status_code == 401
    huge = client.post(url, content=body, headers={TIMESTAMP_HEADER: "1" + "0" * 400,
                                                   SIGNATURE_HEADER: "sha256=00"})
    assert huge.status_code == 401
    assert post(b"[1, 2]").status_code == 400
    missing = post(json.dumps({"other": 1}).encode())
    assert missing.status_code == 400
    assert "unknown input" not in missing.json()["message"]
    assert "inputs.ticket: required" in missing.json()["message"]
    runs = client.get("/api/v1/playbook-runs", params={"playbook": "from-ticketing"},
                      headers=api.bearer("viewer")).json()
    assert runs["total"] == 1

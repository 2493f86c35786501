"""Case templates: the built-in file, user files that extend or override it, bad files
refused with their file, template and field, and cases opened from a template."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.serverfixtures import Api
from watchkeeper.audit.model import AuditEntry
from watchkeeper.audit.service import AuditLog
from watchkeeper.cases.service import CaseService, NewCase
from watchkeeper.cases.templates import TemplateError, load_templates, parse_templates
from watchkeeper.errors import UsageError
from watchkeeper.state.db import StateDB

BUILT_IN = ["credential_compromise", "data_exfiltration", "ddos", "insider_threat", "malware",
            "phishing", "ransomware"]


def test_the_built_in_templates() -> None:
    book = load_templates()
    assert book.names == BUILT_IN
    ransomware = book.get("ransomware")
    assert ransomware.severity == "critical"
    assert ransomware.tags == ("ransomware", "malware")
    assert [(t.role, t.sla_hours) for t in ransomware.tasks] == [
        ("responder", 1.0), ("analyst", 4.0), ("admin", 2.0), ("admin", 8.0),
        ("responder", 48.0)]
    with pytest.raises(UsageError, match=r"unknown case template 'worm' \(known: "
                                         r"credential_compromise, data_exfiltration, ddos, "):
        book.get("worm")


def test_a_user_file_extends_and_overrides(tmp_path: Path) -> None:
    user = tmp_path / "mine.yml"
    user.write_text(
        "phishing:\n  severity: high\n  tags: [phish]\n  tasks:\n"
        "    - {title: Pull the mail, role: mail-team, sla_hours: 0.5}\n"
        "usb_drop:\n  severity: low\n", encoding="utf-8")
    book = load_templates(user)
    assert book.names == sorted([*BUILT_IN, "usb_drop"])
    assert book.get("phishing").as_dict() == {
        "name": "phishing", "severity": "high", "description": "", "tags": ["phish"],
        "tasks": [{"title": "Pull the mail", "role": "mail-team", "sla_hours": 0.5}]}
    assert book.get("usb_drop").tasks == ()


def test_bad_templates_are_reported_with_file_template_and_field(tmp_path: Path) -> None:
    text = ("good:\n  severity: low\n"
            "bad:\n  severity: huge\n  colour: red\n  tags: wrong\n  tasks:\n"
            "    - {title: '', role: analyst, sla_hours: 1}\n"
            "    - {title: Do it, sla_hours: -2}\n"
            "    - just a string\n")
    with pytest.raises(TemplateError) as caught:
        parse_templates(text, "mine.yml")
    assert caught.value.location == "mine.yml"
    assert caught.value.problems == [
        "template 'bad': colour: unknown field",
        "template 'bad': severity: 'huge' is not one of low, medium, high, critical",
        "template 'bad': tags: expected a list of texts",
        "template 'bad': tasks[1].title: a task needs a title",
        "template 'bad': tasks[2].role: expected a role (analyst, responder, admin) or a team",
        "template 'bad': tasks[2].sla_hours: expected a number of hours above 0, not -2",
        "template 'bad': tasks[3].task: expected a mapping with title, role and sla_hours",
    ]
    assert str(caught.value).startswith("mine.yml: template 'bad': colour: unknown field; ")
    with pytest.raises(TemplateError, match=r"mine\.yml: not YAML"):
        parse_templates("a: [", "mine.yml")
    with pytest.raises(TemplateError, match="expected a mapping of template names"):
        parse_templates("- a\n", "mine.yml")
    with pytest.raises(TemplateError, match=r"missing.yml: cannot read"):
        load_templates(tmp_path / "missing.yml")


def test_a_case_opened_from_a_template(state_db: StateDB) -> None:
    cases = CaseService(state_db, AuditLog(state_db))
    made = cases.create("alice", NewCase(title="Mail from the CEO", tags=("vip",)),
                        template="phishing", keep_severity=False)
    assert made["severity"] == "medium"
    assert made["priority"] == "P3"
    assert made["tags"] == ["phishing", "email", "vip"]
    assert made["template"] == "phishing"
    case = cases.get(made["id"])
    assert case["description"] == "A phishing message reported or detected."
    assert [(t["title"], t["role"], t["due_at"] - case["created_at"]) for t in case["tasks"]] == [
        ("Collect the message with its headers", "analyst", timedelta(hours=2)),
        ("Find every recipient and who clicked or replied", "analyst", timedelta(hours=4)),
        ("Block the sender and the links at the mail gateway and proxy", "responder",
         timedelta(hours=4)),
        ("Reset the credentials of users who entered them", "admin", timedelta(hours=8)),
    ]
    kept = cases.create("alice", NewCase(title="x", severity="critical"), template="phishing")
    assert kept["severity"] == "critical"
    with state_db.read() as session:
        actions = [e.action for e in session.query(AuditEntry)
                   .filter(AuditEntry.object_id == str(made["id"])).order_by(AuditEntry.id)]
    assert actions == ["case.create"] + ["case.add_task"] * 4
    with pytest.raises(UsageError, match="unknown case template 'worm'"):
        cases.create("alice", NewCase(title="y"), template="worm")


def test_templates_over_the_api(api: Api) -> None:
    viewer, analyst = api.bearer("viewer"), api.bearer("analyst")
    listed = api.client.get("/api/v1/cases/templates", headers=viewer)
    assert listed.status_code == 200
    assert [t["name"] for t in listed.json()["templates"]] == BUILT_IN
    made = api.client.post("/api/v1/cases", headers=analyst,
                           json={"title": "Encrypted shares", "template": "ransomware"})
    assert made.status_code == 201, made.text
    assert made.json()["severity"] == "critical"
    case = api.client.get(f"/api/v1/cases/{made.json()['id']}", headers=viewer).json()
    assert len(case["tasks"]) == 5
    assert case["tasks"][0]["role"] == "responder"
    unknown = api.client.post("/api/v1/cases", headers=analyst,
                              json={"title": "x", "template": "worm"})
    assert unknown.status_code == 400
    assert unknown.json()["message"] == (
        "unknown case template 'worm' (known: " + ", ".join(BUILT_IN) + ")")
    refused = api.client.post("/api/v1/cases", headers=viewer,
                              json={"title": "x", "template": "ddos"})
    assert refused.status_code == 403

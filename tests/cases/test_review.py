"""The post-incident review: only on resolved or closed cases, action items become tasks
once, and the report exported as escaped Markdown and self-contained HTML."""

from __future__ import annotations

import pytest

from tests.serverfixtures import Api
from watchkeeper.audit.service import AuditLog
from watchkeeper.cases.report import to_html, to_markdown
from watchkeeper.cases.review import ActionItem, Review, set_review
from watchkeeper.cases.service import CaseService, NewCase
from watchkeeper.errors import ConflictError, UsageError
from watchkeeper.state.db import StateDB

REVIEW = Review(what_happened="Phish <b>clicked</b>\nCreds used", what_worked="MFA",
                what_to_change="Faster reset",
                action_items=(ActionItem("Train staff", "bob"), ActionItem("Tune rule")))


def test_a_review_only_once_resolved_and_its_actions_become_tasks(state_db: StateDB) -> None:
    cases = CaseService(state_db, AuditLog(state_db))
    made = cases.create("alice", NewCase(title="Phish", severity="high"))
    with pytest.raises(ConflictError, match=f"case {made['id']} is new: a review is written "
                                            "once it is resolved or closed"):
        set_review(cases, "alice", made["id"], REVIEW)
    assert cases.get(made["id"])["tasks"] == [], "a refused review adds nothing"
    cases.update("alice", made["id"], {"status": "resolved"})
    stored = set_review(cases, "alice", made["id"], REVIEW)
    tasks = cases.get(made["id"])["tasks"]
    assert [(t["title"], t["assignee"], t["status"]) for t in tasks] == [
        ("Train staff", "bob", "open"), ("Tune rule", None, "open")]
    assert stored["action_items"] == [
        {"title": "Train staff", "assignee": "bob", "task_id": tasks[0]["id"]},
        {"title": "Tune rule", "assignee": None, "task_id": tasks[1]["id"]}]
    assert stored["what_happened"] == "Phish <b>clicked</b>\nCreds used"
    assert stored["updated_by"] == "alice"
    again = Review(what_happened="edited",
                   action_items=(ActionItem("Tune rule"), ActionItem("Buy keys")))
    set_review(cases, "bob", made["id"], again)
    assert [t["title"] for t in cases.get(made["id"])["tasks"]] == [
        "Train staff", "Tune rule", "Buy keys"], "only the new item made a task"
    assert cases.get(made["id"])["review"]["what_happened"] == "edited"
    kinds = [i["kind"] for i in cases.timeline(made["id"])]
    assert kinds.count("case.review") == 2
    with pytest.raises(UsageError, match="an action item needs a title"):
        set_review(cases, "bob", made["id"], Review(action_items=(ActionItem(" "),)))
    with pytest.raises(UsageError, match="different titles"):
        set_review(cases, "bob", made["id"],
                   Review(action_items=(ActionItem("a"), ActionItem("a"))))


def test_the_report_is_escaped(state_db: StateDB) -> None:
    cases = CaseService(state_db, AuditLog(state_db))
    made = cases.create("alice", NewCase(title="<script>x</script>", severity="high"))
    cases.update("alice", made["id"], {"status": "resolved"})
    set_review(cases, "alice", made["id"], REVIEW)
    case, timeline = cases.get(made["id"]), cases.timeline(made["id"])
    text = to_markdown(case, timeline)
    assert text.startswith(
        f"# Post-incident report: case {made['id']} — \\<script\\>x\\</script\\>\n")
    assert "## What happened\n\n- Phish \\<b\\>clicked\\</b\\>\n- Creds used\n" in text
    assert "## What worked\n\n- MFA\n" in text
    assert "## Action items\n\n- Train staff\n- Tune rule\n" in text
    assert "## Alerts\n\nNone recorded.\n" in text
    assert "- \\[ \\] Train staff · bob\n" in text
    page = to_html(case, timeline)
    assert "<script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert "<li>Phish &lt;b&gt;clicked&lt;/b&gt;</li>" in page
    assert "http" not in page.replace('lang="en"', ""), "no outside resources"


def test_review_and_report_over_the_api(api: Api) -> None:
    analyst, viewer = api.bearer("analyst"), api.bearer("viewer")
    case = api.client.post("/api/v1/cases", headers=analyst, json={"title": "Phish"}).json()
    url = f"/api/v1/cases/{case['id']}"
    body = {"what_happened": "x", "action_items": [{"title": "Train staff"}]}
    early = api.client.put(f"{url}/review", headers=analyst, json=body)
    assert early.status_code == 409
    api.client.patch(url, headers=analyst, json={"status": "resolved"})
    assert api.client.put(f"{url}/review", headers=viewer, json=body).status_code == 403
    done = api.client.put(f"{url}/review", headers=analyst, json=body)
    assert done.status_code == 200, done.text
    assert done.json()["action_items"][0]["title"] == "Train staff"
    markdown = api.client.get(f"{url}/report", headers=viewer)
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "## What happened\n\n- x\n" in markdown.text
    page = api.client.get(f"{url}/report", headers=viewer, params={"format": "html"})
    assert page.headers["content-type"].startswith("text/html")
    assert page.text.startswith("<!doctype html>")
    bad = api.client.get(f"{url}/report", headers=viewer, params={"format": "pdf"})
    assert bad.status_code == 422


def test_the_review_on_the_case_page(api: Api) -> None:
    cases = api.services.cases
    made = cases.create("system", NewCase(title="Phish"))
    cases.update("system", made["id"], {"status": "resolved"})
    set_review(cases, "system", made["id"], REVIEW)
    api.login("viewer")
    page = api.client.get(f"/cases/{made['id']}").text
    assert "Post-incident review" in page
    assert "Phish &lt;b&gt;clicked&lt;/b&gt;" in page
    assert f'href="/api/v1/cases/{made["id"]}/report?format=html"' in page
    report = api.client.get(f"/api/v1/cases/{made['id']}/report", params={"format": "html"})
    assert report.status_code == 200, "the link works with the page's session"

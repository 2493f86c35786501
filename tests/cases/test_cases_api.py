"""Cases through the API and the pages: an ingested attack becomes an alert, then a case."""

from __future__ import annotations

from tests.serverfixtures import ROOT, Api
from watchkeeper.cases.service import NewCase

WINDOWS = (ROOT / "examples" / "logs" / "windows" / "sysmon-and-security.jsonl").read_bytes()


def test_an_alert_becomes_a_case_worked_over_the_api(api: Api) -> None:
    api.ingest(WINDOWS, "winlog-json")
    analyst, viewer = api.bearer("analyst"), api.bearer("viewer")
    alerts = api.client.get("/api/v1/alerts", headers=viewer).json()["alerts"]
    cleared = next(a for a in alerts if a["rule_title"] == "Security Audit Log Cleared")
    refused = api.client.post(f"/api/v1/cases/from-alert/{cleared['id']}", headers=viewer)
    assert refused.status_code == 403
    made = api.client.post(f"/api/v1/cases/from-alert/{cleared['id']}", headers=analyst)
    assert made.status_code == 201, made.text
    case = made.json()
    assert case["title"] == "Security Audit Log Cleared on dc-01.corp.example"
    again = api.client.post(f"/api/v1/cases/from-alert/{cleared['id']}", headers=analyst)
    assert again.status_code == 409
    others = [a["id"] for a in alerts if a["id"] != cleared["id"]]
    merged = api.client.post(f"/api/v1/cases/{case['id']}/alerts", headers=analyst,
                             json={"alert_ids": others})
    assert sorted(merged.json()["alert_ids"]) == sorted(a["id"] for a in alerts)
    task = api.client.post(f"/api/v1/cases/{case['id']}/tasks", headers=analyst,
                           json={"title": "Check who cleared the log",
                                 "due_at": "2030-01-01T00:00:00Z"})
    assert task.status_code == 201
    assert task.json()["due_at"].startswith("2030-01-01T00:00:00")
    skip = api.client.patch(f"/api/v1/cases/{case['id']}", headers=analyst,
                            json={"status": "closed"})
    assert skip.status_code == 409
    assert "may go to" in skip.json()["message"]
    bad = api.client.patch(f"/api/v1/cases/{case['id']}", headers=analyst, json={"tlp": "blue"})
    assert bad.status_code == 400
    assert "unknown TLP 'blue'" in bad.json()["message"]
    assert api.client.post(f"/api/v1/cases/{case['id']}/comments", headers=analyst,
                           json={"body": ""}).status_code == 422
    timeline = api.client.get(f"/api/v1/cases/{case['id']}/timeline", headers=viewer).json()
    kinds = [item["kind"] for item in timeline["timeline"]]
    assert kinds.count("alert") == len(alerts)
    assert "case.add_task" in kinds
    audit = api.client.get("/api/v1/audit", headers=analyst,
                           params={"object_type": "case"}).json()
    actions = {entry["action"] for entry in audit}
    assert {"case.create", "case.add_alerts", "case.add_task"} <= actions


def test_the_case_pages(api: Api) -> None:
    api.ingest(WINDOWS, "winlog-json")
    csrf = api.login("analyst")
    first = api.client.get("/api/v1/alerts", headers=api.bearer("viewer")).json()["alerts"][0]
    page = api.client.get(f"/alerts/{first['id']}")
    assert "Promote to case" in page.text
    moved = api.client.post(f"/alerts/{first['id']}/promote", data={"csrf_token": csrf},
                            follow_redirects=False)
    assert moved.status_code == 303
    case_url = moved.headers["location"]
    assert api.client.post(f"{case_url}/tasks", data={"csrf_token": csrf, "title": "Isolate <b>"},
                           follow_redirects=False).status_code == 303
    assert api.client.post(f"{case_url}/comments", data={"title": "x"},
                           follow_redirects=False).status_code == 403, "no CSRF token"
    shown = api.client.get(case_url).text
    assert "Isolate &lt;b&gt;" in shown
    assert first["rule_title"] in shown
    assert 'data-kind="host"' in shown, "the alert's host is an observable of the case"
    assert "Kill chain" in shown
    case_id = int(case_url.rsplit("/", 1)[1])
    tactics = [step["tactic"] for step in api.client.get(
        f"/api/v1/cases/{case_id}/killchain", headers=api.bearer("viewer")).json()["tactics"]]
    assert tactics, "the example rules carry ATT&CK tactics"
    for tactic in tactics:
        assert f'data-tactic="{tactic}"' in shown


def test_an_alert_promoted_with_a_template_from_its_page(api: Api) -> None:
    api.ingest(WINDOWS, "winlog-json")
    csrf = api.login("analyst")
    alert = api.client.get("/api/v1/alerts", headers=api.bearer("viewer")).json()["alerts"][0]
    page = api.client.get(f"/alerts/{alert['id']}").text
    assert '<option value="ransomware">ransomware</option>' in page
    moved = api.client.post(f"/alerts/{alert['id']}/promote", follow_redirects=False,
                            data={"csrf_token": csrf, "template": "ransomware"})
    assert moved.status_code == 303
    case_id = int(moved.headers["location"].rsplit("/", 1)[1])
    case = api.client.get(f"/api/v1/cases/{case_id}", headers=api.bearer("viewer")).json()
    assert case["severity"] == "critical"
    assert len(case["tasks"]) >= 3
    assert all(task["due_at"] for task in case["tasks"])
    other = api.client.get("/api/v1/alerts", headers=api.bearer("viewer")).json()["alerts"][1]
    refused = api.client.post(f"/alerts/{other['id']}/promote", follow_redirects=False,
                              data={"csrf_token": csrf, "template": "nope"})
    assert refused.status_code == 400
    assert "unknown" in refused.text


def test_the_review_written_on_the_case_page(api: Api) -> None:
    api.ingest(WINDOWS, "winlog-json")
    csrf = api.login("analyst")
    alert = api.client.get("/api/v1/alerts", headers=api.bearer("viewer")).json()["alerts"][0]
    case = api.services.cases.promote("analyst", alert["id"])
    form = {"csrf_token": csrf, "what_happened": "A <b>clear</b> log",
            "action_items": "Alert on log clearing\n\nRotate admin passwords\n"}
    early = api.client.post(f"/cases/{case['id']}/review", data=form, follow_redirects=False)
    assert early.status_code == 409, "only a resolved case is reviewed"
    api.services.cases.update("analyst", case["id"], {"status": "resolved"})
    page = api.client.get(f"/cases/{case['id']}").text
    assert 'action="/cases/{}/review"'.format(case["id"]) in page
    saved = api.client.post(f"/cases/{case['id']}/review", data=form, follow_redirects=False)
    assert saved.status_code == 303
    shown = api.client.get(f"/cases/{case['id']}").text
    assert "A &lt;b&gt;clear&lt;/b&gt; log" in shown
    tasks = [t["title"] for t in api.services.cases.get(case["id"])["tasks"]]
    assert tasks == ["Alert on log clearing", "Rotate admin passwords"]


def test_ids_beyond_64_bits_are_refused_before_the_database(api: Api) -> None:
    analyst = api.bearer("analyst")
    made = api.client.post("/api/v1/cases", headers=analyst,
                           json={"title": "x", "alert_ids": [2**64]})
    assert made.status_code == 422
    case = api.client.post("/api/v1/cases", headers=analyst, json={"title": "y"}).json()
    reply = api.client.post(f"/api/v1/cases/{case['id']}/comments", headers=analyst,
                            json={"body": "hi", "parent_id": 2**64})
    assert reply.status_code == 422


def test_the_review_page_keeps_the_assignees_given_through_the_api(api: Api) -> None:
    csrf = api.login("analyst")
    case = api.services.cases.create("analyst", NewCase(title="Reviewed"))
    api.services.cases.update("analyst", case["id"], {"status": "resolved"})
    made = api.client.put(f"/api/v1/cases/{case['id']}/review", headers=api.bearer("analyst"),
                          json={"what_happened": "x",
                                "action_items": [{"title": "Patch", "assignee": "bob"}]})
    assert made.status_code == 200, made.text
    api.client.post(f"/cases/{case['id']}/review", follow_redirects=False,
                    data={"csrf_token": csrf, "what_happened": "x",
                          "action_items": "Patch\nTrain people"})
    review = api.services.cases.get(case["id"])["review"]
    assert [(i["title"], i.get("assignee")) for i in review["action_items"]] == [
        ("Patch", "bob"), ("Train people", None)]

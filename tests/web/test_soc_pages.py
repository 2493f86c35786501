"""The SOC workspace pages over HTTP: the dashboard, bulk triage from the queue, the
users and tokens administration, and the rules page's false-alarm rates."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from tests.serverfixtures import ROOT, Api
from watchkeeper.cases.model import CaseRow
from watchkeeper.cases.service import NewCase

WINDOWS = (ROOT / "examples" / "logs" / "windows" / "sysmon-and-security.jsonl").read_bytes()


def _alert_ids(api: Api) -> list[int]:
    alerts = api.client.get("/api/v1/alerts", headers=api.bearer("viewer")).json()["alerts"]
    return [int(a["id"]) for a in alerts]


def _actions(api: Api, object_type: str) -> list[str]:
    return [e.action for e in api.services.audit.entries(object_type=object_type, limit=50)]


def test_the_dashboard_shows_volume_workload_trends_rates_and_noise(api: Api) -> None:
    api.ingest(WINDOWS, "winlog-json")
    ids = _alert_ids(api)
    api.services.alerts.close(ids[0], "analyst", "false_positive")
    api.login("viewer")
    assert api.client.get("/", follow_redirects=False).headers["location"] == "/dashboard"
    page = api.client.get("/dashboard")
    assert page.status_code == 200, page.text
    text = page.text
    assert re.search(r'<a href="/dashboard" aria-current="page">Dashboard</a>', text)
    assert text.index('href="/dashboard"') < text.index('href="/alerts"'), "first in the nav"
    volume = text[text.index('<svg id="volume"'):text.index("</svg>")]
    assert volume.count("<rect") == 15  # 14 days back from now touch 15 calendar days
    assert f"{len(ids)} alerts" in volume
    open_total = sum(int(n) for n in re.findall(
        r'<tr data-level="\w+">.*?</th><td>(\d+)</td>', text))
    assert open_total == len(ids) - 1
    assert 'id="open-cases"' in text
    assert 'data-severity="critical"' in text
    for key in ("mttd", "mttr"):
        assert f'<svg id="trend-{key}"' in text
    trend = text[text.index('<svg id="trend-mttr"'):]
    assert trend.index("<circle") < trend.index("</svg>"), "the closed alert's MTTR is drawn"
    assert '<tr data-source="winlog-json">' in text
    assert "average since the first such event" in text
    again = api.client.get("/dashboard").text
    assert "since the previous view" in again or "average since" in again
    assert 'id="noisiest"' in text
    assert "no verdicts" in text


def test_bulk_triage_from_the_queue_reports_what_changed_and_what_was_skipped(
    api: Api,
) -> None:
    api.ingest(WINDOWS, "winlog-json")
    first, second, third = _alert_ids(api)[:3]
    api.services.alerts.close(third, "someone", "benign")
    csrf = api.login("analyst")
    queue = api.client.get("/alerts").text
    assert 'form="bulk"' in queue
    assert 'id="select-all"' in queue
    assert "/static/queue.js" in queue

    done = api.client.post("/alerts/bulk", data={
        "csrf_token": csrf, "action": "acknowledge", "ids": [str(first), str(second), str(third)],
    })
    assert done.status_code == 200, done.text
    assert "2 alert(s) acknowledged" in done.text
    assert f"alert {third} is closed, not new" in done.text
    statuses = {a["id"]: a["status"] for a in api.client.get(
        "/api/v1/alerts", params={"status": ["acknowledged", "closed"]},
        headers=api.bearer("viewer")).json()["alerts"]}
    assert statuses[first] == statuses[second] == "acknowledged"

    closed = api.client.post("/alerts/bulk", data={
        "csrf_token": csrf, "action": "close", "verdict": "false_positive",
        "ids": [str(first), str(third)]})
    assert "1 alert(s) closed" in closed.text
    assert f"alert {third} is already closed" in html.unescape(closed.text)

    promoted = api.client.post("/alerts/bulk", data={
        "csrf_token": csrf, "action": "promote", "ids": [str(first), str(second)]})
    case_id = re.search(r'href="/cases/(\d+)"', promoted.text)
    assert case_id, promoted.text
    case = api.services.cases.get(int(case_id.group(1)))
    assert sorted(case["alert_ids"]) == sorted([first, second])
    assert "and 1 more alert" in case["title"]
    again = api.client.post("/alerts/bulk", data={
        "csrf_token": csrf, "action": "promote", "ids": [str(first)]})
    assert f"alert {first} is in case {case['id']} already" in again.text

    assert api.client.post("/alerts/bulk", data={"csrf_token": csrf, "action": "close",
                                                 "ids": [str(second)]}).status_code == 400
    assert api.client.post("/alerts/bulk", data={"csrf_token": csrf, "action": "acknowledge"}
                           ).status_code == 400
    assert api.client.post("/alerts/bulk", data={"action": "acknowledge", "ids": [str(second)]}
                           ).status_code == 403, "no CSRF token"


def test_a_viewer_sees_no_bulk_form_and_may_not_post_it(api: Api) -> None:
    api.ingest(WINDOWS, "winlog-json")
    csrf = api.login("viewer")
    assert 'id="bulk"' not in api.client.get("/alerts").text
    refused = api.client.post("/alerts/bulk", data={
        "csrf_token": csrf, "action": "acknowledge", "ids": [str(_alert_ids(api)[0])]})
    assert refused.status_code == 403
    assert "alerts:triage" in html.unescape(refused.text)


def test_bulk_triage_over_the_api(api: Api) -> None:
    api.ingest(WINDOWS, "winlog-json")
    ids = _alert_ids(api)
    analyst = api.bearer("analyst")
    answer = api.client.post("/api/v1/alerts/bulk", headers=analyst, json={
        "ids": [ids[0], ids[1], 999_999], "action": "acknowledge", "note": "bulk"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["changed"] == [ids[0], ids[1]]
    assert body["skipped"] == [{"id": 999_999, "reason": "no alert 999999"}]
    closing = api.client.post("/api/v1/alerts/bulk", headers=analyst, json={
        "ids": ids, "action": "close", "verdict": "benign"}).json()
    assert closing["changed"] == ids
    assert closing["skipped"] == []
    assert _actions(api, "alert").count("alert.close") == len(ids)
    assert api.client.post("/api/v1/alerts/bulk", headers=analyst, json={
        "ids": ids, "action": "close"}).status_code == 400
    assert api.client.post("/api/v1/alerts/bulk", headers=analyst, json={
        "ids": [], "action": "acknowledge"}).status_code == 422
    owner = api.user_ids["analyst"]
    narrow = api.services.auth.issue_token(
        api.services.auth.principal(api.services.auth.get_user(owner)), owner, "api",
        "triage only", scopes=["alerts:triage"])[1]
    refused = api.client.post("/api/v1/alerts/bulk", json={"ids": ids, "action": "promote"},
                              headers={"Authorization": f"Bearer {narrow}"})
    assert refused.status_code == 403
    assert "'cases:manage'" in refused.json()["message"]
    made = api.client.post("/api/v1/alerts/bulk", headers=analyst,
                           json={"ids": ids, "action": "promote"}).json()
    assert made["changed"] == ids
    assert made["case_id"] is not None


def test_an_admin_creates_changes_and_deactivates_a_user(api: Api) -> None:
    csrf = api.login("admin")
    listing = api.client.get("/admin/users")
    assert listing.status_code == 200
    assert 'data-username="analyst"' in listing.text
    assert "argon2" not in listing.text
    assert "password_hash" not in listing.text
    made = api.client.post("/admin/users", data={
        "csrf_token": csrf, "username": "newcomer", "role": "analyst",
        "display_name": "New Comer"})
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    password = re.search(r'<code class="secret">([^<]+)</code>', made.text)
    assert password
    user = api.services.auth.find_user("newcomer")
    assert user is not None
    assert user.role.value == "analyst"
    signed = api.client.post("/api/v1/auth/login",
                             json={"username": "newcomer", "password": password.group(1)})
    assert signed.status_code == 200, "the one-time password works"
    csrf = api.login("admin")
    assert password.group(1) not in api.client.get("/admin/users").text, "shown once only"
    twice = api.client.post("/admin/users", data={
        "csrf_token": csrf, "username": "newcomer", "role": "viewer"})
    assert twice.status_code == 409
    assert "already exists" in html.unescape(twice.text)
    assert api.client.post(f"/admin/users/{user.id}/role", data={
        "csrf_token": csrf, "role": "viewer"}, follow_redirects=False).status_code == 303
    assert api.client.post(f"/admin/users/{user.id}/active", data={
        "csrf_token": csrf, "active": "no"}, follow_redirects=False).status_code == 303
    changed = api.services.auth.get_user(user.id)
    assert changed.role.value == "viewer"
    assert not changed.active
    assert "Reactivate newcomer" in api.client.get("/admin/users").text
    actions = _actions(api, "user")
    assert {"user.create", "user.role_change", "user.deactivate"} <= set(actions)
    last_admin = api.client.post(f"/admin/users/{api.user_ids['admin']}/active", data={
        "csrf_token": csrf, "active": "no"})
    assert last_admin.status_code == 409
    assert "last active admin" in last_admin.text


def test_an_admin_issues_an_ingest_token_shown_once_and_revokes_it(api: Api) -> None:
    csrf = api.login("admin")
    issued = api.client.post("/admin/tokens", data={
        "csrf_token": csrf, "name": "sensor-7", "owner_id": str(api.user_ids["admin"]),
        "source_type": "winlog-json"})
    assert issued.status_code == 201, issued.text
    secret = re.search(r'<code class="secret">([^<]+)</code>', issued.text)
    assert secret
    token = secret.group(1)
    line = b'{"EventID": 4624, "Channel": "Security", "Computer": "t"}\n'
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.client.post("/api/v1/ingest/winlog-json", content=line,
                           headers=bearer).status_code == 202
    listing = api.client.get("/admin/tokens").text
    assert token not in listing, "the secret is shown once"
    assert 'data-token-name="sensor-7"' in listing
    assert "winlog-json" in listing
    token_id = re.search(r'data-token-id="([^"]+)" data-token-name="sensor-7"', listing)
    assert token_id
    assert api.client.post(f"/admin/tokens/{token_id.group(1)}/revoke", data={
        "csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert api.client.post("/api/v1/ingest/winlog-json", content=line,
                           headers=bearer).status_code == 401
    assert "revoked" in api.client.get("/admin/tokens").text
    bad = api.client.post("/admin/tokens", data={
        "csrf_token": csrf, "name": "x", "owner_id": str(api.user_ids["admin"]),
        "source_type": "no-such-type"})
    assert bad.status_code in (400, 404)
    assert "token not issued" in bad.text
    assert {"token.create", "token.revoke"} <= set(_actions(api, "token"))


def test_the_admin_pages_are_refused_without_their_permissions(api: Api) -> None:
    api.login("analyst")
    for path in ("/admin/users", "/admin/tokens"):
        refused = api.client.get(path)
        assert refused.status_code == 403
    nav = api.client.get("/alerts").text
    assert 'href="/admin/users"' not in nav
    assert 'href="/admin/tokens"' not in nav
    api.login("admin")
    nav = api.client.get("/alerts").text
    assert 'href="/admin/users"' in nav
    assert 'href="/admin/tokens"' in nav


def test_the_rules_page_shows_each_rules_false_alarm_rate(api: Api) -> None:
    api.ingest(WINDOWS, "winlog-json")
    alerts = api.client.get("/api/v1/alerts", headers=api.bearer("viewer")).json()["alerts"]
    judged = alerts[0]
    api.services.alerts.close(judged["id"], "analyst", "false_positive")
    api.login("viewer")
    text = api.client.get("/rules").text
    row = text[text.index(f'<tr data-rule-id="{judged["rule_id"]}"'):]
    row = row[:row.index("</tr>")]
    assert "100%" in row
    assert "(1 of 1)" in row
    assert "False alarms" in text
    assert "no alerts" in text


def test_the_dashboard_lists_sla_breaches(api: Api) -> None:
    api.ingest(WINDOWS, "winlog-json")
    made = api.services.cases.create("analyst", NewCase(title="Late one", severity="critical"))
    with api.services.db.session() as session:  # opened 3.5 h ago: acknowledge is late
        row = session.get(CaseRow, made["id"])
        assert row is not None
        row.created_at = row.created_at - timedelta(hours=3, minutes=30)
    api.login("viewer")
    text = api.client.get("/dashboard").text
    assert f'data-sla="{made["id"]}:acknowledge:breached"' in text
    assert f'data-sla="{made["id"]}:contain:at_risk"' in text, "30 min of 4 h left"

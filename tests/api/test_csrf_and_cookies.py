"""A signed-in browser's changes need the session's CSRF token; bearer tokens need none;
the session cookie is out of reach of page scripts and other sites."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.conftest import Browser, sign_in
from tests.serverfixtures import PASSWORD, Api
from watchkeeper.alerts.service import AlertFilter


@pytest.fixture(scope="module")
def alert_ids(server: Api) -> list[int]:
    alerts, _ = server.services.alerts.list(AlertFilter(sort="first_seen"))
    assert len(alerts) == 3
    return [int(a["id"]) for a in alerts]


@pytest.fixture(scope="module")
def analyst(server: Api) -> Iterator[Browser]:
    browser = sign_in(server, "analyst")
    yield browser
    browser.client.close()


@pytest.fixture(scope="module")
def admin(server: Api) -> Iterator[Browser]:
    browser = sign_in(server, "admin")
    yield browser
    browser.client.close()


def status_of(api: Api, alert_id: int) -> str:
    return str(api.services.alerts.get(alert_id)["status"])


def audit_head(api: Api) -> int:
    return api.services.audit.entries(limit=1)[0].id


def test_an_api_change_from_a_session_needs_the_csrf_header(
    server: Api, analyst: Browser, alert_ids: list[int]
) -> None:
    alert = alert_ids[0]
    path = f"/api/v1/alerts/{alert}/acknowledge"
    head = audit_head(server)
    for headers in ({}, {"X-CSRF-Token": "wrong"}, {"X-CSRF-Token": ""},
                    {"X-CSRF-Token": analyst.csrf[:-1]}):
        refused = analyst.client.post(path, json={}, headers=headers)
        assert refused.status_code == 403, headers
        assert refused.json()["error"] == "PermissionDenied"
        assert "CSRF" in refused.json()["message"]
    assert status_of(server, alert) == "new"
    assert audit_head(server) == head
    done = analyst.client.post(path, json={}, headers={"X-CSRF-Token": analyst.csrf})
    assert done.status_code == 200, done.text
    assert status_of(server, alert) == "acknowledged"


def test_put_patch_and_delete_from_a_session_need_it_too(server: Api, admin: Browser) -> None:
    services = server.services
    exception = services.rules.add_exception("system", None, "kept", {"host.name": "x"})
    rule = services.rules.describe()[0]
    head = audit_head(server)
    calls = [
        ("PUT", "/api/v1/assets", {"name": "csrf-host"}),
        ("PATCH", f"/api/v1/rules/{rule['id']}", {"enabled": not rule["enabled"]}),
        ("DELETE", f"/api/v1/rules/exceptions/{exception['id']}", None),
        ("POST", "/api/v1/users", {"username": "csrf-user", "role": "admin"}),
        ("POST", "/api/v1/tokens", {"name": "csrf"}),
    ]
    for method, path, body in calls:
        answer = admin.client.request(method, path, json=body)
        assert answer.status_code == 403, (method, path, answer.text)
    assert audit_head(server) == head
    assert services.assets.list() == []
    assert exception["id"] in [e["id"] for e in services.rules.exceptions()]
    assert services.auth.find_user("csrf-user") is None
    answer = admin.client.put("/api/v1/assets", json={"name": "csrf-host"},
                              headers={"X-CSRF-Token": admin.csrf})
    assert answer.status_code == 200, answer.text


def test_another_sessions_csrf_token_does_not_work(
    server: Api, analyst: Browser, admin: Browser, alert_ids: list[int]
) -> None:
    alert = alert_ids[1]
    answer = analyst.client.post(f"/api/v1/alerts/{alert}/acknowledge", json={},
                                 headers={"X-CSRF-Token": admin.csrf})
    assert answer.status_code == 403
    assert status_of(server, alert) == "new"


def test_a_web_form_post_needs_the_csrf_field(
    server: Api, analyst: Browser, alert_ids: list[int]
) -> None:
    alert = alert_ids[1]
    path = f"/alerts/{alert}/close"
    for form in ({"verdict": "benign"}, {"verdict": "benign", "csrf_token": "wrong"},
                 {"verdict": "benign", "csrf_token": ""}):
        refused = analyst.client.post(path, data=form, follow_redirects=False)
        assert refused.status_code == 403, form
    # the right value sent where no form is read, as a cross-site text/plain post would
    plain = analyst.client.post(path, content=f"csrf_token={analyst.csrf}".encode(),
                                headers={"Content-Type": "text/plain"}, follow_redirects=False)
    assert plain.status_code == 403
    assert status_of(server, alert) == "new"
    done = analyst.client.post(path, data={"verdict": "benign", "csrf_token": analyst.csrf},
                               follow_redirects=False)
    assert done.status_code == 303, done.text
    assert status_of(server, alert) == "closed"


def test_signing_out_needs_the_csrf_token_so_no_site_can_sign_a_user_out(
    server: Api, analyst: Browser
) -> None:
    assert analyst.client.post("/api/v1/auth/logout").status_code == 403
    assert analyst.client.post("/logout", follow_redirects=False).status_code == 403
    assert analyst.client.get("/api/v1/auth/me").json()["via"] == "session"


def test_a_bearer_token_needs_no_csrf_token(server: Api, alert_ids: list[int]) -> None:
    alert = alert_ids[2]
    answer = server.client.post(f"/api/v1/alerts/{alert}/acknowledge", json={},
                                headers=server.bearer("responder"))
    assert answer.status_code == 200, answer.text
    assert status_of(server, alert) == "acknowledged"


def test_safe_methods_from_a_session_need_no_csrf_token(analyst: Browser) -> None:
    assert analyst.client.get("/api/v1/alerts").status_code == 200
    assert analyst.client.get("/alerts").status_code == 200


@pytest.mark.parametrize("how", ["api", "form"])
def test_the_session_cookie_is_http_only_same_site_lax_for_the_whole_site(
    server: Api, how: str
) -> None:
    client = server.client
    if how == "api":
        answer = client.post("/api/v1/auth/login",
                             json={"username": "viewer", "password": PASSWORD})
        assert answer.status_code == 200
    else:
        answer = client.post("/login", data={"username": "viewer", "password": PASSWORD},
                             follow_redirects=False)
        assert answer.status_code == 303
    client.cookies.clear()
    [cookie] = answer.headers.get_list("set-cookie")
    name, _, rest = cookie.partition("=")
    attributes = {part.strip().split("=")[0].lower(): part.strip()
                  for part in rest.split(";")[1:]}
    assert name == "wk_session"
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "samesite=lax"
    assert attributes["path"] == "Path=/"
    assert "domain" not in attributes
    assert "max-age" in attributes

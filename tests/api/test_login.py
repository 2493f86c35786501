"""Signing in: repeated failures lock the account out for a while, whatever password comes
next, and the page a user is sent to afterwards is always on this site."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.serverfixtures import PASSWORD, Api
from watchkeeper.web.pages import _safe_next

LIMIT = 5
"""Failed sign-ins allowed per account and address (the documented default)."""


def api_login(api: Api, username: str, password: str) -> tuple[int, dict[str, str]]:
    answer = api.client.post("/api/v1/auth/login",
                             json={"username": username, "password": password})
    api.client.cookies.clear()
    return answer.status_code, dict(answer.headers)


@pytest.mark.parametrize("username", ["responder", "no-such-user"])
def test_repeated_wrong_passwords_lock_the_account_out(bare_server: Api, username: str) -> None:
    api = bare_server
    for attempt in range(LIMIT):
        status, _ = api_login(api, username, f"wrong password {attempt}")
        assert status == 401, attempt
    status, headers = api_login(api, username, "wrong password again")
    assert status == 429
    assert 1 <= int(headers["retry-after"]) <= 15 * 60
    status, headers = api_login(api, username, PASSWORD)
    assert status == 429, "the right password got in during the lockout"
    assert "retry-after" in headers
    if username == "responder":
        page = api.client.post("/login", data={"username": username, "password": PASSWORD},
                               follow_redirects=False)
        assert page.status_code == 429
        assert int(page.headers["retry-after"]) >= 1
        assert "wk_session" not in page.headers.get("set-cookie", "")
        # the lockout holds this account from this address, not the others
        assert api_login(api, "analyst", PASSWORD)[0] == 200


OFF_SITE = [
    "https://evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example",
    "https:evil.example", "javascript:alert(1)", "/\t/evil.example", " //evil.example",
    "/%0A/evil.example", "HTTPS://evil.example/alerts", "evil.example", "",
]


def lands_on_this_site(location: str) -> bool:
    """Whether a browser following ``Location: location`` stays on this site (browsers
    drop tabs and newlines and read a backslash as a slash)."""
    seen = re.sub(r"[\t\r\n]", "", location).replace("\\", "/").strip()
    parts = urlsplit(seen)
    return seen.startswith("/") and not seen.startswith("//") and not parts.netloc \
        and not parts.scheme


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_next_page_is_never_off_site(target: str) -> None:
    assert lands_on_this_site(_safe_next(target))


def test_a_path_on_this_site_is_kept() -> None:
    assert _safe_next("/alerts/7?status=all") == "/alerts/7?status=all"


def test_signing_in_with_an_off_site_next_page_stays_on_this_site(bare_server: Api) -> None:
    client = bare_server.client
    page = client.get("/login", params={"next": "https://evil.example"})
    assert page.status_code == 200
    assert "evil.example" not in page.text
    for target in ("https://evil.example", "//evil.example", "/\\evil.example"):
        answer = client.post("/login", data={"username": "admin", "password": PASSWORD,
                                             "next": target}, follow_redirects=False)
        client.cookies.clear()
        assert answer.status_code == 303, answer.text
        assert lands_on_this_site(answer.headers["location"]), answer.headers["location"]


def test_a_page_asked_for_before_signing_in_is_shown_after_it(bare_server: Api) -> None:
    client = bare_server.client
    sent = client.get("/alerts", params={"status": "all"}, follow_redirects=False)
    assert sent.status_code == 303
    assert sent.headers["location"] == "/login?next=/alerts%3Fstatus%3Dall"
    page = client.get(sent.headers["location"])
    assert 'value="/alerts?status=all"' in page.text
    answer = client.post("/login", data={"username": "admin", "password": PASSWORD,
                                         "next": "/alerts?status=all"}, follow_redirects=False)
    client.cookies.clear()
    assert answer.headers["location"] == "/alerts?status=all"


def test_a_cross_site_login_is_refused(shared_server: Api) -> None:
    """Login CSRF: another site must not sign a browser into an account of its choosing."""
    for path, kwargs in [
        ("/api/v1/auth/login", {"json": {"username": "viewer", "password": PASSWORD}}),
        ("/login", {"data": {"username": "viewer", "password": PASSWORD}}),
    ]:
        answer = shared_server.client.post(path, headers={"Origin": "https://evil.example"},
                                           follow_redirects=False, **kwargs)
        assert answer.status_code == 403, answer.text
        assert "set-cookie" not in answer.headers
    same = shared_server.client.post("/api/v1/auth/login",
                                     headers={"Origin": "http://127.0.0.1"},
                                     json={"username": "viewer", "password": PASSWORD})
    assert same.status_code == 200

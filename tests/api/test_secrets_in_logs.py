"""Passwords, token values and session cookies never reach the logs, the audit log or an
error message, at any log level."""

from __future__ import annotations

import logging

import pytest

from tests.serverfixtures import PASSWORD, Api
from watchkeeper.auth.tokens import parse_token

NEW_PASSWORD = "a brand new pass phrase 42"
WRONG_PASSWORD = "not the password at all 17"
USER_PASSWORD = "the newcomer's own phrase 99"


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """Each record's message, arguments and extra fields, as text."""
    return caplog.text + "\n".join(
        f"{record.getMessage()} {record.args!r} {record.__dict__!r}" for record in caplog.records
    )


def test_no_secret_is_logged_through_sign_in_and_token_use(
    shared_server: Api, caplog: pytest.LogCaptureFixture
) -> None:
    api = shared_server
    caplog.set_level(logging.DEBUG)
    client = api.client
    answer = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    assert answer.status_code == 200
    csrf = answer.json()["csrf_token"]
    cookie = client.cookies["wk_session"]
    headers = {"X-CSRF-Token": csrf}
    made = client.post("/api/v1/tokens", json={"name": "logged?"}, headers=headers)
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    user = client.post("/api/v1/users", json={"username": "newcomer", "role": "viewer",
                                              "password": USER_PASSWORD}, headers=headers)
    assert user.status_code == 201, user.text
    changed = client.post(f"/api/v1/users/{user.json()['id']}/password",
                          json={"password": NEW_PASSWORD}, headers=headers)
    assert changed.status_code == 204, changed.text
    client.cookies.clear()
    token_id, secret = parse_token(token)
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 200
    forged = {"Authorization": f"Bearer wk_{token_id}_{secret[::-1]}"}
    assert client.get("/api/v1/auth/me", headers=forged).status_code == 401
    assert client.post("/login", data={"username": "viewer", "password": WRONG_PASSWORD},
                       follow_redirects=False).status_code == 401
    assert client.post("/login", data={"username": "viewer", "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    form_cookie = client.cookies["wk_session"]
    client.cookies.clear()
    assert caplog.records, "nothing was logged: the test would prove nothing"
    logged = everything_logged(caplog)
    for value in (PASSWORD, NEW_PASSWORD, WRONG_PASSWORD, USER_PASSWORD, secret,
                  secret[::-1], cookie, form_cookie, csrf):
        assert value not in logged
    # the steps were logged, by names and token ids, which are not secret
    assert "user 'admin' signed in" in logged
    assert f"token {token_id}" in logged


def test_no_secret_is_in_the_audit_log(shared_server: Api) -> None:
    api = shared_server
    entries = api.client.get("/api/v1/audit", params={"limit": 1000},
                             headers=api.bearer("admin"))
    assert entries.status_code == 200
    assert "newcomer" in entries.text  # the changes above are there
    for value in (PASSWORD, NEW_PASSWORD, USER_PASSWORD, *api.tokens.values()):
        assert value not in entries.text
    assert "argon2" not in entries.text


@pytest.mark.parametrize("password", ["x" * 1001 + "secret-tail", ["listed secret phrase"]])
def test_a_refused_sign_in_does_not_echo_the_password(shared_server: Api, password: object) -> None:
    answer = shared_server.client.post("/api/v1/auth/login",
                                     json={"username": "admin", "password": password})
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["where"] == "body.password"
    assert "secret" not in answer.text

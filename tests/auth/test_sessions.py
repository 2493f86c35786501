"""Web sessions: lifetime, idle timeout, logout, cookie attributes, CSRF."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.auth.helpers import FakeClock
from watchkeeper.auth import (
    AuthService,
    User,
    check_csrf,
    clear_session_cookie,
    cookie_name,
    session_cookie,
)
from watchkeeper.auth.model import WebSessionRow
from watchkeeper.errors import AuthenticationError, PermissionDenied
from watchkeeper.state.db import StateDB


def test_a_session_signs_its_user_in(auth: AuthService, analyst: User, state_db: StateDB) -> None:
    cookie, session = auth.start_session(analyst)
    principal, resumed = auth.resume_session(cookie)
    assert (principal.user_id, principal.via, principal.can("alerts:triage")) == (
        analyst.id, "session", True
    )
    assert resumed.csrf_token == session.csrf_token
    with state_db.session() as db_session:
        row = db_session.execute(select(WebSessionRow)).scalar_one()
        assert cookie not in (row.id, row.csrf_token)


def test_each_sign_in_gets_a_new_session(auth: AuthService, analyst: User) -> None:
    first, one = auth.start_session(analyst)
    second, two = auth.start_session(analyst)
    assert first != second
    assert one.csrf_token != two.csrf_token


def test_idle_timeout(auth: AuthService, analyst: User, clock: FakeClock) -> None:
    cookie, _ = auth.start_session(analyst)
    for _ in range(3):
        clock.advance(minutes=50)
        auth.session_principal(cookie)  # each request pushes the idle limit back
    clock.advance(minutes=60)
    with pytest.raises(AuthenticationError, match="ended"):
        auth.session_principal(cookie)
    with pytest.raises(AuthenticationError):
        auth.session_principal(cookie)  # and it is gone for good


def test_absolute_lifetime(auth: AuthService, analyst: User, clock: FakeClock) -> None:
    cookie, session = auth.start_session(analyst)
    assert session.expires_at == clock.now + auth.sessions.settings.lifetime
    for _ in range(24):
        clock.advance(minutes=30)
        if clock.now < session.expires_at:
            auth.session_principal(cookie)
    with pytest.raises(AuthenticationError):
        auth.session_principal(cookie)


def test_logout(auth: AuthService, analyst: User) -> None:
    cookie, _ = auth.start_session(analyst)
    assert auth.end_session(cookie)
    assert not auth.end_session(cookie)
    with pytest.raises(AuthenticationError):
        auth.session_principal(cookie)


def test_a_role_change_applies_to_live_sessions(auth: AuthService, analyst: User) -> None:
    from watchkeeper.auth import SYSTEM

    cookie, _ = auth.start_session(analyst)
    auth.set_role(SYSTEM, analyst.id, "viewer")
    assert not auth.session_principal(cookie).can("alerts:triage")


@pytest.mark.parametrize("cookie", ["", "x", "x" * 500])
def test_unknown_cookies(auth: AuthService, cookie: str) -> None:
    with pytest.raises(AuthenticationError):
        auth.session_principal(cookie)


def test_purge_expired(auth: AuthService, analyst: User, clock: FakeClock) -> None:
    auth.start_session(analyst)
    clock.advance(minutes=30)
    live, _ = auth.start_session(analyst)
    clock.advance(minutes=45)
    assert auth.sessions.purge_expired() == 1
    auth.session_principal(live)


def test_csrf(auth: AuthService, analyst: User) -> None:
    _, session = auth.start_session(analyst)
    check_csrf(session, session.csrf_token)
    for wrong in (None, "", session.csrf_token[:-1], session.csrf_token + "x", "ünïcode"):
        with pytest.raises(PermissionDenied, match="CSRF token missing or wrong"):
            check_csrf(session, wrong)


def test_cookie_attributes() -> None:
    plain = session_cookie("v", secure=False, max_age=60)
    assert plain == {
        "key": "wk_session",
        "value": "v",
        "max_age": 60,
        "path": "/",
        "secure": False,
        "httponly": True,
        "samesite": "lax",
    }
    tls = session_cookie("v", secure=True, max_age=60)
    assert (tls["key"], tls["secure"], tls["httponly"]) == ("__Host-wk_session", True, True)
    assert cookie_name(True) == "__Host-wk_session"
    cleared = clear_session_cookie(secure=True)
    assert (cleared["key"], cleared["path"], cleared["secure"]) == ("__Host-wk_session", "/", True)

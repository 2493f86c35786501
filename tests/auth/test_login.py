"""Signing in with a password: refusals that tell nothing, throttling, rehashing, no leaks."""

from __future__ import annotations

import logging

import pytest

from tests.auth.helpers import PASSWORD, FakeClock, cheap_hasher
from watchkeeper.auth import SYSTEM, AuthService, Passwords, TooManyAttempts, User
from watchkeeper.errors import AuthenticationError
from watchkeeper.state.db import StateDB

IP = "192.0.2.7"


def test_sign_in(auth: AuthService, analyst: User, clock: FakeClock) -> None:
    user = auth.authenticate("ALICE", PASSWORD, IP)
    assert user.id == analyst.id
    assert user.last_login_at == clock.now
    entry = auth.audit.entries()[0]
    assert (entry.actor, entry.action, entry.after) == ("alice", "user.login", {"via": "password"})
    principal = auth.principal(user)
    assert (principal.via, principal.user_id, principal.can("alerts:triage")) == (
        "password", analyst.id, True
    )


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong password here"), ("nobody", PASSWORD), ("bad name!", PASSWORD)],
)
def test_refusals_look_alike(
    auth: AuthService, analyst: User, username: str, password: str
) -> None:
    with pytest.raises(AuthenticationError) as raised:
        auth.authenticate(username, password, IP)
    assert str(raised.value) == "wrong username or password"
    assert raised.value.http_status == 401
    assert auth.get_user(analyst.id).last_login_at is None


def test_throttled_after_five_failures(auth: AuthService, analyst: User, clock: FakeClock) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            auth.authenticate("alice", "wrong password here", IP)
    with pytest.raises(TooManyAttempts) as raised:
        auth.authenticate("alice", PASSWORD, IP)  # even the right password waits
    assert raised.value.retry_after == 15 * 60
    assert auth.authenticate("alice", PASSWORD, "198.51.100.1").id == analyst.id
    clock.advance(minutes=15)
    assert auth.authenticate("alice", PASSWORD, IP).id == analyst.id


def test_unknown_users_count_against_the_address(auth: AuthService, analyst: User) -> None:
    for n in range(20):
        with pytest.raises(AuthenticationError):
            auth.authenticate(f"guess{n}", PASSWORD, IP)
    with pytest.raises(TooManyAttempts):
        auth.authenticate("alice", PASSWORD, IP)


def test_a_weaker_hash_is_replaced_on_sign_in(
    state_db: StateDB, auth: AuthService, analyst: User, clock: FakeClock
) -> None:
    stronger = AuthService(state_db, passwords=Passwords(cheap_hasher(time_cost=2)), clock=clock)
    with state_db.session() as session:
        from watchkeeper.auth.model import UserRow

        before = session.get(UserRow, analyst.id)
        assert before is not None
        old_hash = before.password_hash
    stronger.authenticate("alice", PASSWORD, IP)
    with state_db.session() as session:
        after = session.get(UserRow, analyst.id)
        assert after is not None
        new_hash = after.password_hash
    assert new_hash != old_hash
    assert new_hash is not None
    assert "t=2" in new_hash
    assert auth.authenticate("alice", PASSWORD, IP).id == analyst.id


def test_no_secret_reaches_the_log(
    auth: AuthService, admin: User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_username = "my-password-typed-here"
    auth.create_user(SYSTEM, "carol", "viewer", PASSWORD)
    auth.authenticate("carol", PASSWORD, IP)
    with pytest.raises(AuthenticationError):
        auth.authenticate("carol", "wrong password here", IP)
    with pytest.raises(AuthenticationError):
        auth.authenticate(secret_username, PASSWORD, IP)
    token, plaintext = auth.issue_token(auth.principal(admin), admin.id, "api", "ci")
    auth.verify_token(plaintext)
    with pytest.raises(AuthenticationError):
        auth.verify_token(plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B"))
    cookie, session = auth.start_session(admin)
    auth.session_principal(cookie)
    logged = caplog.text
    assert "signed in" in logged  # the log does say what happened
    assert token.id in logged
    for secret in (PASSWORD, "wrong password here", secret_username, plaintext,
                   plaintext.split("_", 2)[2], cookie, session.csrf_token, "$argon2"):
        assert secret not in logged

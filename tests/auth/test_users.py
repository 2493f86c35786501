"""User administration: checks, conflicts, and an audit entry for every change."""

from __future__ import annotations

import pytest

from tests.auth.helpers import PASSWORD
from watchkeeper.audit import canonical_json, verify
from watchkeeper.auth import SYSTEM, AuthService, Role, User, user_principal
from watchkeeper.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDenied,
    UsageError,
)
from watchkeeper.state.db import StateDB


def _audit_text(auth: AuthService) -> str:
    return canonical_json([r.before for r in auth.audit.entries(limit=1000)]) + canonical_json(
        [r.after for r in auth.audit.entries(limit=1000)]
    )


def test_create_user_is_audited_without_secrets(
    auth: AuthService, admin: User, state_db: StateDB
) -> None:
    user = auth.create_user(auth.principal(admin), "Bob.Smith", "analyst", PASSWORD,
                            display_name="Bob Smith")
    assert (user.username, user.role, user.active, user.has_password) == (
        "Bob.Smith", Role.ANALYST, True, True
    )
    entry = auth.audit.entries()[0]
    assert (entry.actor, entry.action, entry.object_id) == ("Root", "user.create", str(user.id))
    assert entry.after == {
        "username": "Bob.Smith", "display_name": "Bob Smith", "role": "analyst", "active": True
    }
    assert "argon2" not in _audit_text(auth)
    assert PASSWORD not in _audit_text(auth)
    assert verify(state_db).ok


def test_usernames_are_unique_whatever_the_case(auth: AuthService, admin: User) -> None:
    with pytest.raises(ConflictError, match="already exists"):
        auth.create_user(SYSTEM, "ROOT", "viewer", PASSWORD)
    assert auth.find_user("rOOt") == auth.get_user(admin.id)


@pytest.mark.parametrize("username", ["", "-dash", "has space", "x" * 65, "tab\tname"])
def test_bad_usernames_are_refused(auth: AuthService, username: str) -> None:
    with pytest.raises(UsageError, match="username"):
        auth.create_user(SYSTEM, username, "viewer", PASSWORD)


def test_bad_roles_and_passwords_are_refused(auth: AuthService) -> None:
    with pytest.raises(UsageError, match="unknown role"):
        auth.create_user(SYSTEM, "bob", "superuser", PASSWORD)
    with pytest.raises(UsageError, match="at least 12"):
        auth.create_user(SYSTEM, "bob", "viewer", "short")
    assert auth.list_users() == []


def test_only_users_managers_administer_users(auth: AuthService, analyst: User) -> None:
    actor = auth.principal(analyst)
    with pytest.raises(PermissionDenied, match="users:manage"):
        auth.create_user(actor, "bob", "viewer", PASSWORD)
    with pytest.raises(PermissionDenied):
        auth.set_role(actor, analyst.id, "admin")
    with pytest.raises(PermissionDenied):
        auth.deactivate(actor, analyst.id)
    assert auth.get_user(analyst.id).role is Role.ANALYST


def test_set_role_records_before_and_after(auth: AuthService, admin: User, analyst: User) -> None:
    changed = auth.set_role(auth.principal(admin), analyst.id, "responder")
    assert changed.role is Role.RESPONDER
    entry = auth.audit.entries()[0]
    assert (entry.action, entry.before, entry.after) == (
        "user.role_change", {"role": "analyst"}, {"role": "responder"}
    )


def test_the_last_admin_stays(auth: AuthService, admin: User) -> None:
    with pytest.raises(ConflictError, match="last active admin"):
        auth.set_role(SYSTEM, admin.id, "viewer")
    with pytest.raises(ConflictError, match="last active admin"):
        auth.deactivate(SYSTEM, admin.id)
    second = auth.create_user(SYSTEM, "second", "admin", PASSWORD)
    auth.set_role(SYSTEM, admin.id, "viewer")
    with pytest.raises(ConflictError):
        auth.deactivate(SYSTEM, second.id)


def test_deactivate_and_reactivate(auth: AuthService, analyst: User) -> None:
    cookie, _ = auth.start_session(analyst)
    assert not auth.deactivate(SYSTEM, analyst.id).active
    with pytest.raises(AuthenticationError):
        auth.session_principal(cookie)
    with pytest.raises(AuthenticationError):
        auth.authenticate("alice", PASSWORD, "192.0.2.1")
    assert auth.reactivate(SYSTEM, analyst.id).active
    assert auth.authenticate("alice", PASSWORD, "192.0.2.1").id == analyst.id
    actions = [r.action for r in auth.audit.entries()]
    assert actions[:3] == ["user.login", "user.activate", "user.deactivate"]


def test_unknown_users_are_not_found(auth: AuthService) -> None:
    with pytest.raises(NotFoundError):
        auth.get_user(999)
    with pytest.raises(NotFoundError):
        auth.set_role(SYSTEM, 999, "viewer")
    assert auth.find_user("nobody") is None


def test_own_password_change_needs_the_current_one(auth: AuthService, analyst: User) -> None:
    me = auth.principal(analyst)
    new = "a much longer passphrase"
    with pytest.raises(AuthenticationError, match="current password"):
        auth.set_password(me, analyst.id, new)
    with pytest.raises(AuthenticationError):
        auth.set_password(me, analyst.id, new, current_password="wrong password!")
    cookie, _ = auth.start_session(analyst)
    auth.set_password(me, analyst.id, new, current_password=PASSWORD)
    with pytest.raises(AuthenticationError):
        auth.session_principal(cookie)
    assert auth.authenticate("alice", new, "192.0.2.1").id == analyst.id
    entry = next(r for r in auth.audit.entries() if r.action == "user.password_change")
    assert entry.after == {"sessions_ended": 1}
    assert new not in _audit_text(auth)


def test_others_passwords_need_users_manage(auth: AuthService, admin: User, analyst: User) -> None:
    bob = auth.create_user(SYSTEM, "bob", "viewer", PASSWORD)
    with pytest.raises(PermissionDenied):
        auth.set_password(auth.principal(analyst), bob.id, "a much longer passphrase")
    auth.set_password(auth.principal(admin), bob.id, "a much longer passphrase")
    assert auth.authenticate("bob", "a much longer passphrase", "192.0.2.1").id == bob.id


def test_an_account_without_password_cannot_sign_in(auth: AuthService) -> None:
    robot = auth.create_user(SYSTEM, "shipper", "viewer", None)
    assert not robot.has_password
    with pytest.raises(AuthenticationError):
        auth.authenticate("shipper", "", "192.0.2.1")
    principal = user_principal(robot.id, robot.username, robot.role, "token")
    assert not principal.can("users:manage")

"""API and ingest tokens: format, scopes, who may issue what, revocation, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.auth.helpers import PASSWORD, FakeClock
from watchkeeper.auth import SYSTEM, AuthService, Permission, TokenKind, User, parse_token
from watchkeeper.auth.model import ApiTokenRow
from watchkeeper.auth.principal import require_source
from watchkeeper.auth.tokens import TOKEN_FORMAT
from watchkeeper.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDenied,
    UsageError,
)
from watchkeeper.state.db import StateDB


def test_format_and_storage(auth: AuthService, analyst: User, state_db: StateDB) -> None:
    token, plaintext = auth.issue_token(auth.principal(analyst), analyst.id, "api", " laptop ")
    assert TOKEN_FORMAT.fullmatch(plaintext)
    assert plaintext.startswith(f"wk_{token.id}_")
    assert (token.kind, token.name, token.owner_id, token.scopes) == (
        TokenKind.API, "laptop", analyst.id, None
    )
    secret = parse_token(plaintext)[1]
    with state_db.session() as session:
        row = session.execute(select(ApiTokenRow)).scalar_one()
        stored = " ".join(str(v) for v in vars(row).values())
    assert secret not in stored
    assert plaintext not in " ".join(str(r.after) for r in auth.audit.entries())


def test_an_api_token_acts_as_its_owner(auth: AuthService, analyst: User) -> None:
    token, plaintext = auth.issue_token(auth.principal(analyst), analyst.id, "api", "cli")
    principal = auth.verify_token(plaintext)
    assert (principal.user_id, principal.username, principal.via, principal.token_id) == (
        analyst.id, "alice", "token", token.id
    )
    assert principal.permissions == auth.principal(analyst).permissions


def test_scopes_narrow_a_token(auth: AuthService, analyst: User) -> None:
    me = auth.principal(analyst)
    _, plaintext = auth.issue_token(me, analyst.id, "api", "dashboard", scopes=["alerts:read"])
    assert auth.verify_token(plaintext).permissions == {Permission.ALERTS_READ}
    with pytest.raises(UsageError, match="does not hold users:manage"):
        auth.issue_token(me, analyst.id, "api", "x", scopes=["alerts:read", "users:manage"])
    with pytest.raises(UsageError, match="unknown permission"):
        auth.issue_token(me, analyst.id, "api", "x", scopes=["alerts:write"])
    with pytest.raises(UsageError, match="no permission"):
        auth.issue_token(me, analyst.id, "api", "x", scopes=[])


def test_a_scoped_token_cannot_mint_a_broader_one(auth: AuthService, analyst: User) -> None:
    _, plaintext = auth.issue_token(
        auth.principal(analyst), analyst.id, "api", "narrow", scopes=["alerts:read"]
    )
    narrow = auth.verify_token(plaintext)
    with pytest.raises(PermissionDenied, match="alerts:triage"):
        auth.issue_token(narrow, analyst.id, "api", "broad")
    auth.issue_token(narrow, analyst.id, "api", "same", scopes=["alerts:read"])


def test_a_demotion_narrows_existing_tokens(auth: AuthService, analyst: User) -> None:
    _, plaintext = auth.issue_token(auth.principal(analyst), analyst.id, "api", "cli")
    auth.set_role(SYSTEM, analyst.id, "viewer")
    assert not auth.verify_token(plaintext).can("alerts:triage")


def test_ingest_tokens(auth: AuthService, admin: User, analyst: User) -> None:
    root = auth.principal(admin)
    _, plaintext = auth.issue_token(root, analyst.id, "ingest", "dc01", source_type="winlog-json")
    principal = auth.verify_token(plaintext)
    assert principal.permissions == {Permission.INGEST}
    require_source(principal, "winlog-json")
    with pytest.raises(PermissionDenied):
        require_source(principal, "zeek")
    with pytest.raises(UsageError, match="no scopes"):
        auth.issue_token(root, admin.id, "ingest", "x", scopes=["ingest"])
    with pytest.raises(UsageError, match="only an ingest token"):
        auth.issue_token(root, admin.id, "api", "x", source_type="zeek")
    with pytest.raises(UsageError, match="unknown token kind"):
        auth.issue_token(root, admin.id, "root", "x")


def test_who_may_issue_what(auth: AuthService, admin: User, analyst: User) -> None:
    me = auth.principal(analyst)
    with pytest.raises(PermissionDenied, match="tokens:manage"):
        auth.issue_token(me, analyst.id, "ingest", "shipper")
    with pytest.raises(PermissionDenied, match="tokens:manage"):
        auth.issue_token(me, admin.id, "api", "not mine")
    assert auth.issue_token(auth.principal(admin), analyst.id, "api", "for alice")[0].owner_id == (
        analyst.id
    )
    with pytest.raises(NotFoundError):
        auth.issue_token(SYSTEM, 999, "api", "nobody's")
    with pytest.raises(UsageError, match="name"):
        auth.issue_token(me, analyst.id, "api", "   ")


def test_revocation_is_immediate(auth: AuthService, admin: User, analyst: User) -> None:
    me = auth.principal(analyst)
    token, plaintext = auth.issue_token(me, analyst.id, "api", "cli")
    auth.verify_token(plaintext)
    with pytest.raises(NotFoundError):  # another user's token is not even visible
        auth.revoke_token(auth.principal(auth.create_user(SYSTEM, "bob", "viewer", PASSWORD)),
                          token.id)
    revoked = auth.revoke_token(me, token.id)
    assert revoked.revoked_at is not None
    with pytest.raises(AuthenticationError):
        auth.verify_token(plaintext)
    with pytest.raises(ConflictError):
        auth.revoke_token(auth.principal(admin), token.id)
    assert [r.action for r in auth.audit.entries(object_type="token")] == [
        "token.revoke", "token.create"
    ]


def test_expiry(auth: AuthService, analyst: User, clock: FakeClock) -> None:
    me = auth.principal(analyst)
    with pytest.raises(UsageError, match="future"):
        auth.issue_token(me, analyst.id, "api", "old", expires_at=clock.now)
    _, plaintext = auth.issue_token(
        me, analyst.id, "api", "day", expires_at=clock.now + timedelta(days=1)
    )
    auth.verify_token(plaintext)
    clock.advance(days=1)
    with pytest.raises(AuthenticationError):
        auth.verify_token(plaintext)


def test_a_deactivated_owner_stops_the_token(auth: AuthService, analyst: User) -> None:
    _, plaintext = auth.issue_token(auth.principal(analyst), analyst.id, "api", "cli")
    auth.deactivate(SYSTEM, analyst.id)
    with pytest.raises(AuthenticationError):
        auth.verify_token(plaintext)
    with pytest.raises(ConflictError, match="deactivated"):
        auth.issue_token(SYSTEM, analyst.id, "api", "again")


@pytest.mark.parametrize(
    "plaintext",
    ["", "Bearer", "wk_", "wk_zzzzzzzzzzzz_" + "a" * 43, "wk_0123456789ab_" + "a" * 42],
)
def test_malformed_tokens(auth: AuthService, plaintext: str) -> None:
    with pytest.raises(AuthenticationError, match="malformed"):
        auth.verify_token(plaintext)


def test_a_wrong_secret_or_unknown_id_is_refused(auth: AuthService, analyst: User) -> None:
    token, plaintext = auth.issue_token(auth.principal(analyst), analyst.id, "api", "cli")
    forged = f"wk_{token.id}_" + "A" * 43
    with pytest.raises(AuthenticationError, match="unknown, revoked or expired"):
        auth.verify_token(forged)
    with pytest.raises(AuthenticationError, match="unknown, revoked or expired"):
        auth.verify_token("wk_000000000000_" + plaintext[-43:])


def test_last_use_is_written_at_most_once_a_minute(
    auth: AuthService, analyst: User, clock: FakeClock
) -> None:
    _, plaintext = auth.issue_token(auth.principal(analyst), analyst.id, "api", "cli")
    start = clock.now
    auth.verify_token(plaintext)
    clock.advance(seconds=30)
    auth.verify_token(plaintext)
    assert auth.tokens.list(auth.principal(analyst), analyst.id)[0].last_used_at == start
    clock.advance(seconds=30)
    auth.verify_token(plaintext)
    assert auth.tokens.list(auth.principal(analyst), analyst.id)[0].last_used_at == clock.now


def test_listing(auth: AuthService, admin: User, analyst: User) -> None:
    me = auth.principal(analyst)
    auth.issue_token(me, analyst.id, "api", "mine")
    auth.issue_token(auth.principal(admin), admin.id, "api", "root's")
    assert [t.name for t in auth.tokens.list(me, analyst.id)] == ["mine"]
    with pytest.raises(PermissionDenied):
        auth.tokens.list(me)
    assert {t.name for t in auth.tokens.list(auth.principal(admin))} == {"mine", "root's"}

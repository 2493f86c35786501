"""Users, sign-in, tokens and sessions behind one service; every change audited.

Each state change takes the ``actor`` (a :class:`Principal`; :data:`SYSTEM` from the command
line) and checks its permission here too, not only in the route, so that no caller can skip
it. Audit entries carry names, roles and flags, never a password, hash or token.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from watchkeeper.audit.service import AuditLog
from watchkeeper.auth.model import User, UserRow
from watchkeeper.auth.passwords import Passwords, check_policy
from watchkeeper.auth.principal import Principal, require, user_principal
from watchkeeper.auth.roles import Permission, Role, parse_role
from watchkeeper.auth.sessions import SessionSettings, SessionStore, WebSession
from watchkeeper.auth.throttle import LoginThrottle
from watchkeeper.auth.tokens import ApiToken, TokenKind, TokenStore
from watchkeeper.errors import AuthenticationError, ConflictError, NotFoundError, UsageError
from watchkeeper.state.base import utcnow
from watchkeeper.state.db import StateDB

log = logging.getLogger(__name__)

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def username_key(username: str) -> str:
    return username.strip().lower()


class AuthService:
    """Authentication and authorization state of one Watchkeeper installation.

    ``audit`` is the installation's shared audit log (one is made when none is given).
    """

    def __init__(
        self,
        db: StateDB,
        audit: AuditLog | None = None,
        *,
        passwords: Passwords | None = None,
        throttle: LoginThrottle | None = None,
        sessions: SessionSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._clock = clock
        self.passwords = passwords or Passwords()
        self.throttle = throttle or LoginThrottle(clock=clock)
        self.audit = audit or AuditLog(db, clock=clock)
        self.tokens = TokenStore(db, self.audit, clock)
        self.sessions = SessionStore(db, self.audit, clock, sessions or SessionSettings())

    # users

    def create_user(
        self,
        actor: Principal,
        username: str,
        role: Role | str,
        password: str | None,
        *,
        display_name: str | None = None,
    ) -> User:
        """A new active user; ``password=None`` makes an account that only owns tokens."""
        require(actor, Permission.USERS_MANAGE)
        username = username.strip()
        if not USERNAME.fullmatch(username):
            raise UsageError(
                "a username is 1 to 64 letters, digits or . _ @ -, starting with a letter or digit"
            )
        role = parse_role(role)
        hashed = None
        if password is not None:
            check_policy(password, username)
            hashed = self.passwords.hash(password)
        now = self._clock()
        row = UserRow(
            username=username,
            username_key=username_key(username),
            display_name=(display_name or username).strip()[:200],
            role=role.value,
            password_hash=hashed,
            active=True,
            created_at=now,
            updated_at=now,
        )
        try:
            with self._db.session() as session:
                if self._find(session, username) is not None:
                    raise ConflictError(f"user {username!r} already exists")
                session.add(row)
                session.flush()
                user = User.of(row)
                self.audit.append(
                    session, actor.actor, "user.create", "user", row.id, None, user.audit_view()
                )
        except IntegrityError:
            raise ConflictError(f"user {username!r} already exists") from None
        log.info("user %r (%s) created by %s", username, role, actor.actor)
        return user

    def get_user(self, user_id: int) -> User:
        with self._db.session() as session:
            return User.of(self._row(session, user_id))

    def find_user(self, username: str) -> User | None:
        with self._db.session() as session:
            row = self._find(session, username)
            return None if row is None else User.of(row)

    def list_users(self) -> list[User]:
        with self._db.session() as session:
            rows = session.execute(select(UserRow).order_by(UserRow.username_key)).scalars()
            return [User.of(row) for row in rows]

    def set_password(
        self,
        actor: Principal,
        user_id: int,
        new_password: str,
        *,
        current_password: str | None = None,
    ) -> User:
        """Change a password: one's own with the current one (administrators too), anyone
        else's with ``users:manage``.

        Every session of the user ends, so a stolen session does not survive the change.
        """
        own = actor.user_id == user_id
        if not own:
            require(actor, Permission.USERS_MANAGE)
        user = self.get_user(user_id)
        check_policy(new_password, user.username)
        if own and actor.via != "system":  # a stolen session must not keep the account
            with self._db.session() as session:
                stored = self._row(session, user_id).password_hash
            if current_password is None or not self.passwords.verify(stored, current_password):
                raise AuthenticationError("the current password is wrong")
        hashed = self.passwords.hash(new_password)
        with self._db.session() as session:
            row = self._row(session, user_id)
            row.password_hash = hashed
            row.updated_at = self._clock()
            ended = self.sessions.end_all(session, user_id)
            self.audit.append(
                session,
                actor.actor,
                "user.password_change",
                "user",
                user_id,
                None,
                {"sessions_ended": ended},
            )
        log.info("password of user %r changed by %s", user.username, actor.actor)
        return User.of(row)

    def set_role(self, actor: Principal, user_id: int, role: Role | str) -> User:
        require(actor, Permission.USERS_MANAGE)
        role = parse_role(role)
        with self._db.session() as session:
            row = self._row(session, user_id)
            before = User.of(row)
            if before.role is role:
                return before
            if before.role is Role.ADMIN and before.active:
                self._keep_an_admin(session, user_id)
            row.role = role.value
            row.updated_at = self._clock()
            after = User.of(row)
            self.audit.append(
                session,
                actor.actor,
                "user.role_change",
                "user",
                user_id,
                {"role": before.role.value},
                {"role": role.value},
            )
        log.info("role of user %r set to %s by %s", after.username, role, actor.actor)
        return after

    def deactivate(self, actor: Principal, user_id: int) -> User:
        """Lock an account out: sessions end now, its tokens stop working."""
        return self._set_active(actor, user_id, active=False)

    def reactivate(self, actor: Principal, user_id: int) -> User:
        return self._set_active(actor, user_id, active=True)

    def _set_active(self, actor: Principal, user_id: int, *, active: bool) -> User:
        require(actor, Permission.USERS_MANAGE)
        with self._db.session() as session:
            row = self._row(session, user_id)
            if row.active == active:
                return User.of(row)
            if not active and row.role == Role.ADMIN.value:
                self._keep_an_admin(session, user_id)
            row.active = active
            row.updated_at = self._clock()
            if not active:
                self.sessions.end_all(session, user_id)
            self.audit.append(
                session,
                actor.actor,
                "user.activate" if active else "user.deactivate",
                "user",
                user_id,
                {"active": not active},
                {"active": active},
            )
            user = User.of(row)
        verb = "activated" if active else "deactivated"
        log.info("user %r %s by %s", user.username, verb, actor.actor)
        return user

    # sign-in

    def authenticate(self, username: str, password: str, client_ip: str) -> User:
        """The user with this username and password, or AuthenticationError (401).

        Refused early with TooManyAttempts (429) after repeated failures; an unknown
        username costs the same argon2 work as a wrong password.
        """
        self.throttle.check(username, client_ip)
        with self._db.session() as session:
            row = self._find(session, username) if USERNAME.fullmatch(username.strip()) else None
            stored = row.password_hash if row is not None and row.active else None
            user_id = None if row is None else row.id
        if not self.passwords.verify(stored, password) or user_id is None:
            self.throttle.record_failure(username, client_ip)
            if row is None:
                log.warning("failed sign-in for an unknown user from %s", client_ip)
            else:
                log.warning("failed sign-in for user %r from %s", row.username, client_ip)
            raise AuthenticationError("wrong username or password")
        assert stored is not None  # verify() is False without a stored hash
        rehashed = self.passwords.hash(password) if self.passwords.needs_rehash(stored) else None
        with self._db.session() as session:
            row = self._row(session, user_id)
            if rehashed is not None and row.password_hash == stored:
                row.password_hash = rehashed
            row.last_login_at = self._clock()
            user = User.of(row)
            self.audit.append(
                session, user.username, "user.login", "user", user.id, None, {"via": "password"}
            )
        self.throttle.record_success(username, client_ip)
        log.info("user %r signed in from %s", user.username, client_ip)
        return user

    def principal(self, user: User) -> Principal:
        """The principal of a user who has just signed in with a password."""
        return user_principal(user.id, user.username, user.role, "password")

    # tokens and sessions (see tokens.py and sessions.py)

    def issue_token(
        self,
        actor: Principal,
        owner_id: int,
        kind: TokenKind | str,
        name: str,
        *,
        scopes: Iterable[Permission | str] | None = None,
        source_type: str | None = None,
        expires_at: datetime | None = None,
    ) -> tuple[ApiToken, str]:
        return self.tokens.issue(
            actor,
            owner_id,
            kind,
            name,
            scopes=scopes,
            source_type=source_type,
            expires_at=expires_at,
        )

    def verify_token(self, plaintext: str) -> Principal:
        return self.tokens.verify(plaintext)

    def revoke_token(self, actor: Principal, token_id: str) -> ApiToken:
        return self.tokens.revoke(actor, token_id)

    def start_session(self, user: User) -> tuple[str, WebSession]:
        return self.sessions.start(user)

    def session_principal(self, cookie_value: str) -> Principal:
        return self.sessions.resume(cookie_value)[0]

    def resume_session(self, cookie_value: str) -> tuple[Principal, WebSession]:
        return self.sessions.resume(cookie_value)

    def end_session(self, cookie_value: str) -> bool:
        return self.sessions.end(cookie_value)

    # helpers

    def _find(self, session: Session, username: str) -> UserRow | None:
        query = select(UserRow).where(UserRow.username_key == username_key(username))
        return session.execute(query).scalar_one_or_none()

    def _row(self, session: Session, user_id: int) -> UserRow:
        row = session.get(UserRow, user_id)
        if row is None:
            raise NotFoundError(f"no user with id {user_id}")
        return row

    def _keep_an_admin(self, session: Session, user_id: int) -> None:
        others = session.execute(
            select(func.count())
            .select_from(UserRow)
            .where(UserRow.role == Role.ADMIN.value, UserRow.active, UserRow.id != user_id)
        ).scalar_one()
        if not others:
            raise ConflictError("this is the last active admin: make another admin first")

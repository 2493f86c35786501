"""Web sessions: a random cookie, its SHA-256 as the row id, a CSRF token per session.

A session ends at logout, after ``idle_timeout`` without a request, or ``lifetime`` after it
began, whichever comes first. The cookie is ``HttpOnly`` (no script reads it),
``SameSite=Lax`` (other sites' forms do not send it), ``Path=/``, and ``Secure`` with the
``__Host-`` name prefix when the UI is served over TLS.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from watchkeeper.audit.service import AuditLog
from watchkeeper.auth.model import User, UserRow, WebSessionRow
from watchkeeper.auth.principal import Principal, user_principal
from watchkeeper.auth.roles import Role
from watchkeeper.errors import AuthenticationError, PermissionDenied
from watchkeeper.state.db import StateDB

log = logging.getLogger(__name__)

COOKIE_NAME = "wk_session"
MAX_COOKIE_LENGTH = 128


@dataclass(frozen=True, slots=True)
class SessionSettings:
    idle_timeout: timedelta = timedelta(hours=1)
    lifetime: timedelta = timedelta(hours=12)
    """One shift: after that, sign in again however active the session was."""
    secure_cookie: bool = False
    """True when the UI is served over TLS (directly or behind a TLS proxy)."""
    touch_interval: timedelta = timedelta(minutes=1)
    """``last_seen_at`` is written at most this often."""


@dataclass(frozen=True, slots=True)
class WebSession:
    """A live session as the web layer needs it (its id is a digest, not the cookie)."""

    id: str
    user_id: int
    csrf_token: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime

    @classmethod
    def of(cls, row: WebSessionRow) -> WebSession:
        return cls(
            id=row.id,
            user_id=row.user_id,
            csrf_token=row.csrf_token,
            created_at=row.created_at,
            expires_at=row.expires_at,
            last_seen_at=row.last_seen_at,
        )


def cookie_name(secure: bool) -> str:
    # The __Host- prefix makes browsers refuse the cookie unless Secure, Path=/ and no Domain.
    return f"__Host-{COOKIE_NAME}" if secure else COOKIE_NAME


def session_cookie(value: str, *, secure: bool, max_age: int) -> dict[str, Any]:
    """Keyword arguments for Starlette's ``Response.set_cookie``."""
    return {
        "key": cookie_name(secure),
        "value": value,
        "max_age": max_age,
        "path": "/",
        "secure": secure,
        "httponly": True,
        "samesite": "lax",
    }


def clear_session_cookie(*, secure: bool) -> dict[str, Any]:
    """Keyword arguments for Starlette's ``Response.delete_cookie``."""
    return {
        "key": cookie_name(secure),
        "path": "/",
        "secure": secure,
        "httponly": True,
        "samesite": "lax",
    }


def check_csrf(session: WebSession, submitted: str | None) -> None:
    """Raise PermissionDenied unless ``submitted`` is the session's CSRF token."""
    if not submitted or not hmac.compare_digest(
        session.csrf_token.encode("utf-8"), submitted.encode("utf-8")
    ):
        raise PermissionDenied("CSRF token missing or wrong")


def session_id(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode("utf-8")).hexdigest()


class SessionStore:
    """Start, resume and end web sessions."""

    def __init__(
        self,
        db: StateDB,
        audit: AuditLog,
        clock: Callable[[], datetime],
        settings: SessionSettings,
    ) -> None:
        self._db = db
        self._audit = audit
        self._clock = clock
        self.settings = settings

    def start(self, user: User) -> tuple[str, WebSession]:
        """A new session for ``user``: the cookie value (give it to the browser) and the row."""
        cookie = secrets.token_urlsafe(32)
        now = self._clock()
        with self._db.session() as session:
            owner = session.get(UserRow, user.id)
            if owner is None or not owner.active:
                raise AuthenticationError("the account is deactivated")
            row = WebSessionRow(
                id=session_id(cookie),
                user_id=user.id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + self.settings.lifetime,
                last_seen_at=now,
            )
            session.add(row)
        return cookie, WebSession.of(row)

    def resume(self, cookie_value: str) -> tuple[Principal, WebSession]:
        """The principal and session behind a cookie, or AuthenticationError (401)."""
        if not cookie_value or len(cookie_value) > MAX_COOKIE_LENGTH:
            raise AuthenticationError("not signed in")
        now = self._clock()
        key = session_id(cookie_value)
        with self._db.read() as session:
            row = session.get(WebSessionRow, key)
            if row is None:
                raise AuthenticationError("not signed in, or the session has ended")
            user = session.get(UserRow, row.user_id)
            ended = (
                now >= row.expires_at
                or now - row.last_seen_at >= self.settings.idle_timeout
                or user is None
                or not user.active
            )
            touch = not ended and now - row.last_seen_at >= self.settings.touch_interval
        if ended or touch:  # writes only when something changes
            with self._db.session() as session:
                found = session.get(WebSessionRow, key)
                if found is not None and ended:
                    session.delete(found)
                elif found is not None:
                    found.last_seen_at = now
                    row = found
        if ended or user is None:
            raise AuthenticationError("the session has ended: sign in again")
        principal = user_principal(user.id, user.username, Role(user.role), "session")
        return principal, WebSession.of(row)

    def end(self, cookie_value: str) -> bool:
        """Delete the session (logout); False when there was none."""
        with self._db.session() as session:
            result = session.execute(
                delete(WebSessionRow).where(WebSessionRow.id == session_id(cookie_value))
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def end_all(self, session: Session, user_id: int) -> int:
        """Delete every session of a user inside ``session`` (password change, deactivation)."""
        result = session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user_id))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def purge_expired(self) -> int:
        """Delete sessions past their lifetime or idle timeout; returns how many."""
        now = self._clock()
        with self._db.session() as session:
            result = session.execute(
                delete(WebSessionRow).where(
                    (WebSessionRow.expires_at <= now)
                    | (WebSessionRow.last_seen_at <= now - self.settings.idle_timeout)
                )
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

"""Tables of users, API tokens and web sessions.

Secrets never sit here in the clear: passwords as argon2id hashes, token secrets and session
cookies as SHA-256 digests (they are long random strings, so a fast hash is enough).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.auth.roles import Role
from watchkeeper.state.base import Base

ROLE_NAMES = tuple(role.value for role in Role)
TOKEN_KINDS = ("api", "ingest")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UserRow(Base):
    """A person (or a service account without a password) who signs in or owns tokens."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_one_of("role", ROLE_NAMES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    username_key: Mapped[str] = mapped_column(String(64), unique=True)
    """The username case-folded: uniqueness and look-ups ignore case."""
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    """None: the account cannot sign in with a password (tokens only)."""
    active: Mapped[bool]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class ApiTokenRow(Base):
    """A bearer token: ``api`` acts as its owner (maybe narrowed), ``ingest`` only sends events."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(_one_of("kind", TOKEN_KINDS), name="kind"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    """The public part of the token string, used to find the row."""
    secret_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[list[Any] | None] = mapped_column(JSON)
    """Permission names the token is narrowed to; None: all of the owner's."""
    source_type: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class WebSessionRow(Base):
    """A signed-in browser; the row id is the SHA-256 of the cookie value, never the value."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    """The absolute end of the session, however active it is."""
    last_seen_at: Mapped[datetime]


@dataclass(frozen=True, slots=True)
class User:
    """A user as the rest of the platform sees it: no password hash."""

    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    has_password: bool
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, row: UserRow) -> User:
        return cls(
            id=row.id,
            username=row.username,
            display_name=row.display_name,
            role=Role(row.role),
            active=row.active,
            has_password=row.password_hash is not None,
            created_at=row.created_at,
            updated_at=row.updated_at,
            last_login_at=row.last_login_at,
        )

    def audit_view(self) -> dict[str, Any]:
        """What the audit log records of a user."""
        return {
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role.value,
            "active": self.active,
        }

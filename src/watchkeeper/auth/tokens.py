"""API and ingest tokens: ``wk_<12 hex id>_<43 url-safe characters>``, shown once.

The id finds the row; only the SHA-256 of the secret part is stored (it is 256 random bits,
so a fast hash suffices) and compared in constant time. Revocation, expiry, a deactivated
owner or a demoted owner take effect on the next request: nothing is cached.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from watchkeeper.audit.service import AuditLog
from watchkeeper.auth.model import ApiTokenRow, UserRow
from watchkeeper.auth.principal import Principal, require
from watchkeeper.auth.roles import (
    INGEST_PERMISSIONS,
    Permission,
    Role,
    parse_permission,
    permissions_for,
)
from watchkeeper.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDenied,
    UsageError,
)
from watchkeeper.state.db import StateDB

log = logging.getLogger(__name__)

PREFIX = "wk_"
TOKEN_FORMAT = re.compile(r"wk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
TOUCH_INTERVAL = timedelta(minutes=1)
"""``last_used_at`` is written at most this often, not on every request."""


class TokenKind(StrEnum):
    API = "api"
    INGEST = "ingest"


def new_token() -> tuple[str, str, str]:
    """A fresh ``(id, secret, plaintext)``."""
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return token_id, secret, f"{PREFIX}{token_id}_{secret}"


def parse_token(plaintext: str) -> tuple[str, str]:
    """``(id, secret)`` of a token string, or AuthenticationError when it is not one."""
    match = TOKEN_FORMAT.fullmatch(plaintext.strip())
    if match is None:
        raise AuthenticationError("malformed token")
    return match.group(1), match.group(2)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A token as listed: everything but its secret."""

    id: str
    kind: TokenKind
    name: str
    owner_id: int
    scopes: tuple[Permission, ...] | None
    source_type: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, row: ApiTokenRow) -> ApiToken:
        return cls(
            id=row.id,
            kind=TokenKind(row.kind),
            name=row.name,
            owner_id=row.owner_id,
            scopes=None if row.scopes is None else tuple(Permission(s) for s in row.scopes),
            source_type=row.source_type,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
        )

    def audit_view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "name": self.name,
            "owner_id": self.owner_id,
            "scopes": None if self.scopes is None else [s.value for s in self.scopes],
            "source_type": self.source_type,
            "expires_at": self.expires_at,
            "revoked": self.revoked_at is not None,
        }


class TokenStore:
    """Issue, verify, list and revoke tokens."""

    def __init__(self, db: StateDB, audit: AuditLog, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._audit = audit
        self._clock = clock

    def issue(
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
        """Create a token; the plaintext is returned here and never again."""
        kind = _parse_kind(kind)
        name = name.strip()
        if not 1 <= len(name) <= 100:
            raise UsageError("a token needs a name of 1 to 100 characters")
        if expires_at is not None and expires_at <= self._clock():
            raise UsageError("the expiry time of a token must be in the future")
        wanted = None if scopes is None else frozenset(parse_permission(s) for s in scopes)
        if kind is TokenKind.INGEST and wanted is not None:
            raise UsageError("an ingest token has no scopes: it may only ingest")
        if kind is TokenKind.API and source_type is not None:
            raise UsageError("only an ingest token is bound to a source type")
        if wanted is not None and not wanted:
            raise UsageError("a token narrowed to no permission at all is useless")
        with self._db.session() as session:
            owner = _active_user(session, owner_id)
            role = Role(owner.role)
            beyond = set() if wanted is None else wanted - permissions_for(role)
            if beyond:
                raise UsageError(f"the owner's role ({role}) does not hold {_names(beyond)}")
            granted = _granted(kind, role, wanted)
            if kind is TokenKind.INGEST or owner_id != actor.user_id:
                require(actor, Permission.TOKENS_MANAGE)
            elif not granted <= actor.permissions:
                raise PermissionDenied(
                    "a token cannot hold permissions its creator lacks: "
                    + _names(granted - actor.permissions)
                )
            token_id, secret, plaintext = new_token()
            while session.get(ApiTokenRow, token_id) is not None:
                token_id, secret, plaintext = new_token()
            row = ApiTokenRow(
                id=token_id,
                secret_hash=hash_secret(secret),
                kind=kind.value,
                name=name,
                owner_id=owner_id,
                scopes=None if wanted is None else sorted(p.value for p in wanted),
                source_type=source_type,
                created_at=self._clock(),
                expires_at=expires_at,
            )
            session.add(row)
            session.flush()
            token = ApiToken.of(row)
            self._audit.append(
                session, actor.actor, "token.create", "token", token_id, None, token.audit_view()
            )
        log.info("token %s (%s) issued to user %d by %s", token_id, kind, owner_id, actor.actor)
        return token, plaintext

    def verify(self, plaintext: str) -> Principal:
        """The principal a token acts as, or AuthenticationError (401)."""
        token_id, secret = parse_token(plaintext)
        now = self._clock()
        with self._db.read() as session:
            row = session.get(ApiTokenRow, token_id)
            if row is None or not hmac.compare_digest(row.secret_hash, hash_secret(secret)):
                log.info("rejected token %s: unknown id or wrong secret", token_id)
                raise AuthenticationError("unknown, revoked or expired token")
            owner = session.get(UserRow, row.owner_id)
            reason = _refusal(row, owner, now)
            if reason is not None or owner is None:
                log.info("rejected token %s: %s", token_id, reason)
                raise AuthenticationError("unknown, revoked or expired token")
            touch = row.last_used_at is None or now - row.last_used_at >= TOUCH_INTERVAL
            kind = TokenKind(row.kind)
            scopes = None if row.scopes is None else frozenset(map(Permission, row.scopes))
            principal = Principal(
                user_id=owner.id,
                username=owner.username,
                role=Role(owner.role),
                permissions=_granted(kind, Role(owner.role), scopes),
                via="token",
                token_id=row.id,
                source_type=row.source_type,
            )
        if touch:  # a write, at most once a minute per token
            with self._db.session() as session:
                session.execute(
                    update(ApiTokenRow).where(ApiTokenRow.id == token_id)
                    .values(last_used_at=now)
                )
        return principal

    def revoke(self, actor: Principal, token_id: str) -> ApiToken:
        """Revoke a token at once; revoking one twice is a conflict."""
        with self._db.session() as session:
            row = self._visible(session, actor, token_id)
            if row.revoked_at is not None:
                raise ConflictError(f"token {token_id} is already revoked")
            before = ApiToken.of(row).audit_view()
            row.revoked_at = self._clock()
            token = ApiToken.of(row)
            self._audit.append(
                session, actor.actor, "token.revoke", "token", token_id, before, token.audit_view()
            )
        log.info("token %s revoked by %s", token_id, actor.actor)
        return token

    def list(self, actor: Principal, owner_id: int | None = None) -> list[ApiToken]:
        """The actor's own tokens; anyone's (or everyone's) with ``tokens:manage``."""
        if owner_id != actor.user_id:
            require(actor, Permission.TOKENS_MANAGE)
        query = select(ApiTokenRow).order_by(ApiTokenRow.created_at, ApiTokenRow.id)
        if owner_id is not None:
            query = query.where(ApiTokenRow.owner_id == owner_id)
        with self._db.session() as session:
            return [ApiToken.of(row) for row in session.execute(query).scalars()]

    def _visible(self, session: Session, actor: Principal, token_id: str) -> ApiTokenRow:
        row = session.get(ApiTokenRow, token_id)
        if row is not None and (row.owner_id == actor.user_id or actor.can("tokens:manage")):
            return row
        raise NotFoundError(f"no token {token_id!r}")


def _names(permissions: Iterable[Permission]) -> str:
    return ", ".join(sorted(p.value for p in permissions))


def _parse_kind(kind: TokenKind | str) -> TokenKind:
    try:
        return TokenKind(kind)
    except ValueError:
        raise UsageError(f"unknown token kind {kind!r}: expected api or ingest") from None


def _granted(
    kind: TokenKind, role: Role, scopes: frozenset[Permission] | None
) -> frozenset[Permission]:
    if kind is TokenKind.INGEST:
        return INGEST_PERMISSIONS
    held = permissions_for(role)
    if scopes is None:
        return held
    return held & scopes


def _active_user(session: Session, user_id: int) -> UserRow:
    owner = session.get(UserRow, user_id)
    if owner is None:
        raise NotFoundError(f"no user with id {user_id}")
    if not owner.active:
        raise ConflictError(f"user {owner.username!r} is deactivated")
    return owner


def _refusal(row: ApiTokenRow, owner: UserRow | None, now: datetime) -> str | None:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    if owner is None or not owner.active:
        return "owner deactivated"
    return None

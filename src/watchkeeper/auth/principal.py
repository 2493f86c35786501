"""Who is asking: the principal every permission check and audit entry is made for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from watchkeeper.auth.roles import Permission, Role, parse_permission, permissions_for
from watchkeeper.errors import PermissionDenied

Via = Literal["password", "session", "token", "system"]

SYSTEM_NAME = "system"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller and what it may do right now.

    ``permissions`` is already narrowed: a token's scopes, or ``ingest`` alone for an ingest
    token (whose ``source_type``, when set, is the only source type it may send).
    """

    user_id: int | None
    username: str
    role: Role
    permissions: frozenset[Permission]
    via: Via
    token_id: str | None = None
    source_type: str | None = None

    def can(self, permission: Permission | str) -> bool:
        return parse_permission(permission) in self.permissions

    @property
    def actor(self) -> str:
        """The name written into the audit log."""
        return self.username


SYSTEM = Principal(
    user_id=None,
    username=SYSTEM_NAME,
    role=Role.ADMIN,
    permissions=permissions_for(Role.ADMIN),
    via="system",
)
"""The platform itself, acting from the command line (``watchkeeper init``, user admin)."""


def require(principal: Principal, permission: Permission | str) -> None:
    """Raise PermissionDenied (403) unless ``principal`` holds ``permission``."""
    wanted = parse_permission(permission)
    if wanted not in principal.permissions:
        raise PermissionDenied(f"permission {wanted.value!r} required")


def require_source(principal: Principal, source_type: str) -> None:
    """Raise PermissionDenied unless ``principal`` may ingest events of ``source_type``."""
    require(principal, Permission.INGEST)
    if principal.source_type is not None and principal.source_type != source_type:
        raise PermissionDenied(
            f"this ingest token is bound to source type {principal.source_type!r}, "
            f"not {source_type!r}"
        )


def user_principal(user_id: int, username: str, role: Role, via: Via) -> Principal:
    """A signed-in user acting with all of their role's permissions."""
    return Principal(
        user_id=user_id, username=username, role=role, permissions=permissions_for(role), via=via
    )

"""Roles and permissions: the one matrix every route and service checks against.

viewer reads; analyst also triages alerts, works cases, writes handovers, manages
exceptions and decides approvals a playbook asks of it; responder also runs playbooks and
rolls containment back; admin may do everything a person may. No role
holds ``ingest``: only an ingest token does, and it holds nothing else. The matrix is
documented in docs/security.md, and a test keeps the two equal.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

from watchkeeper.errors import UsageError


class Role(StrEnum):
    VIEWER = "viewer"
    ANALYST = "analyst"
    RESPONDER = "responder"
    ADMIN = "admin"


class Permission(StrEnum):
    EVENTS_READ = "events:read"
    ALERTS_READ = "alerts:read"
    ALERTS_TRIAGE = "alerts:triage"
    RULES_READ = "rules:read"
    RULES_MANAGE = "rules:manage"
    EXCEPTIONS_MANAGE = "exceptions:manage"
    ASSETS_MANAGE = "assets:manage"
    DEADLETTERS_READ = "deadletters:read"
    DEADLETTERS_REPLAY = "deadletters:replay"
    ACTIONS_RUN = "actions:run"
    USERS_MANAGE = "users:manage"
    TOKENS_MANAGE = "tokens:manage"
    AUDIT_READ = "audit:read"
    CASES_READ = "cases:read"
    CASES_MANAGE = "cases:manage"
    METRICS_READ = "metrics:read"
    HANDOVERS_WRITE = "handovers:write"
    SHIFTS_MANAGE = "shifts:manage"
    PLAYBOOKS_READ = "playbooks:read"
    APPROVALS_DECIDE = "approvals:decide"
    CONNECTORS_MANAGE = "connectors:manage"
    VULNS_READ = "vulns:read"
    VULNS_MANAGE = "vulns:manage"
    INTEL_READ = "intel:read"
    INTEL_MANAGE = "intel:manage"
    INTEL_SHARE = "intel:share"
    INGEST = "ingest"


P = Permission
_VIEWER = frozenset({P.EVENTS_READ, P.ALERTS_READ, P.RULES_READ, P.DEADLETTERS_READ,
                     P.CASES_READ, P.METRICS_READ, P.PLAYBOOKS_READ, P.VULNS_READ,
                     P.INTEL_READ, P.INTEL_SHARE})
_ANALYST = _VIEWER | {P.ALERTS_TRIAGE, P.EXCEPTIONS_MANAGE, P.AUDIT_READ, P.CASES_MANAGE,
                      P.HANDOVERS_WRITE, P.APPROVALS_DECIDE, P.VULNS_MANAGE,
                      P.INTEL_MANAGE}
_RESPONDER = _ANALYST | {P.ACTIONS_RUN}
_ADMIN = frozenset(Permission) - {P.INGEST}

ROLE_PERMISSIONS = MappingProxyType(
    {
        Role.VIEWER: _VIEWER,
        Role.ANALYST: frozenset(_ANALYST),
        Role.RESPONDER: frozenset(_RESPONDER),
        Role.ADMIN: _ADMIN,
    }
)
"""What each role may do (read-only)."""

INGEST_PERMISSIONS = frozenset({P.INGEST})
"""All an ingest token may do."""


def parse_role(value: str) -> Role:
    """A role from its name, or a UsageError listing the valid ones."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        valid = ", ".join(r.value for r in Role)
        raise UsageError(f"unknown role {value!r}: expected one of {valid}") from None


def parse_permission(value: str) -> Permission:
    """A permission from its name, or a UsageError listing the valid ones."""
    try:
        return Permission(value.strip().lower())
    except ValueError:
        valid = ", ".join(p.value for p in Permission)
        raise UsageError(f"unknown permission {value!r}: expected one of {valid}") from None


def permissions_for(role: Role | str) -> frozenset[Permission]:
    """Every permission ``role`` holds."""
    return ROLE_PERMISSIONS[parse_role(role)]


def allowed(role: Role | str, permission: Permission | str) -> bool:
    """Whether ``role`` holds ``permission``."""
    return parse_permission(permission) in permissions_for(role)

"""The permission matrix: what each role holds, the checks, and the documented table."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchkeeper.auth import (
    ROLE_PERMISSIONS,
    SYSTEM,
    Permission,
    Principal,
    Role,
    allowed,
    permissions_for,
    require,
    require_source,
    user_principal,
)
from watchkeeper.errors import PermissionDenied, UsageError

DOCS = Path(__file__).parents[2] / "docs" / "security.md"
P = Permission


def test_viewer_only_reads() -> None:
    assert permissions_for(Role.VIEWER) == {
        P.EVENTS_READ,
        P.ALERTS_READ,
        P.RULES_READ,
        P.DEADLETTERS_READ,
        P.CASES_READ,
        P.METRICS_READ,
        P.PLAYBOOKS_READ,
        P.VULNS_READ,
        P.INTEL_READ,
        P.INTEL_SHARE,
    }


def test_each_role_adds_to_the_one_below() -> None:
    viewer, analyst, responder, admin = (permissions_for(r) for r in Role)
    assert analyst - viewer == {P.ALERTS_TRIAGE, P.EXCEPTIONS_MANAGE, P.AUDIT_READ,
                                P.CASES_MANAGE, P.HANDOVERS_WRITE, P.APPROVALS_DECIDE,
                                P.VULNS_MANAGE, P.INTEL_MANAGE}
    assert responder - analyst == {P.ACTIONS_RUN}
    assert admin == frozenset(Permission) - {P.INGEST}
    assert viewer < analyst < responder < admin


def test_no_role_may_ingest() -> None:
    assert not any(allowed(role, "ingest") for role in Role)


def test_allowed_takes_names_and_refuses_unknown_ones() -> None:
    assert allowed("Analyst", "alerts:triage")
    assert not allowed("viewer", "alerts:triage")
    with pytest.raises(UsageError, match="unknown role 'root'"):
        allowed("root", "alerts:read")
    with pytest.raises(UsageError, match="unknown permission 'alerts:delete'"):
        allowed("admin", "alerts:delete")


def test_require_names_the_missing_permission() -> None:
    viewer = user_principal(3, "val", Role.VIEWER, "session")
    require(viewer, P.ALERTS_READ)
    with pytest.raises(PermissionDenied, match="'alerts:triage'") as raised:
        require(viewer, "alerts:triage")
    assert raised.value.http_status == 403


def test_system_is_an_admin_that_cannot_ingest() -> None:
    require(SYSTEM, P.USERS_MANAGE)
    assert SYSTEM.actor == "system"
    with pytest.raises(PermissionDenied):
        require(SYSTEM, P.INGEST)


def test_an_ingest_token_is_held_to_its_source_type() -> None:
    bound = Principal(1, "shipper", Role.VIEWER, frozenset({P.INGEST}), "token", "t1", "zeek")
    require_source(bound, "zeek")
    with pytest.raises(PermissionDenied, match="bound to source type 'zeek'"):
        require_source(bound, "winlog-json")
    unbound = Principal(1, "shipper", Role.VIEWER, frozenset({P.INGEST}), "token", "t2")
    require_source(unbound, "winlog-json")
    with pytest.raises(PermissionDenied):
        require_source(user_principal(1, "root", Role.ADMIN, "session"), "zeek")


def _documented_matrix() -> dict[Role, set[Permission]]:
    """The permission table of docs/security.md, read back."""
    lines = DOCS.read_text(encoding="utf-8").splitlines()
    start = lines.index("| permission | viewer | analyst | responder | admin | allows |")
    matrix: dict[Role, set[Permission]] = {role: set() for role in Role}
    documented: set[Permission] = set()
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        permission = Permission(cells[0].strip("`"))
        documented.add(permission)
        for role, cell in zip(Role, cells[1:5], strict=True):
            if cell == "✓":
                matrix[role].add(permission)
    assert documented == set(Permission), "a permission is missing from the table"
    return matrix


def test_the_documented_matrix_is_the_real_one() -> None:
    assert _documented_matrix() == {role: set(held) for role, held in ROLE_PERMISSIONS.items()}

"""The vulnerability pages: the open findings, highest risk first, with the trends, and one
finding with why it is where it is (the risk formula with its own numbers, the SSVC
decision points, the deadline) and the decisions taken on it. Reading needs
``vulns:read``; suppressing, accepting, stating VEX and revoking ``vulns:manage``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from watchkeeper.api.deps import RowId, ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.errors import UsageError
from watchkeeper.vulns.model import Severity
from watchkeeper.vulns.store import DECISIONS, VEX_STATES, FindingStore
from watchkeeper.web.pages import _page

if TYPE_CHECKING:
    from watchkeeper.server.services import Services

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(allow(Permission.VULNS_READ))]
Manager = Annotated[Principal, Depends(allow(Permission.VULNS_MANAGE))]
Key = Annotated[str, Path(pattern="^[0-9a-f]{64}$")]
STATUSES = ("open", "fixed", "all")
SEVERITIES = tuple(s.value for s in reversed(Severity))
SSVC_ORDER = ("Act", "Attend", "Track*", "Track")
FACTORS = ("severity", "threat", "asset", "exposure")
LISTED = 500


def _store(services: Services) -> FindingStore:
    store: FindingStore = services.vulns.store
    return store


@router.get("/vulns")
def vulns_page(request: Request, services: ServicesDep, who: Reader,
               status: Annotated[str, Query(max_length=10)] = "open",
               min_severity: Annotated[str, Query(max_length=20)] = "",
               decided: bool = False) -> HTMLResponse:
    if status not in STATUSES:
        raise UsageError(f"unknown status {status!r} (known: {', '.join(STATUSES)})")
    if min_severity and min_severity not in SEVERITIES:
        raise UsageError(f"unknown severity {min_severity!r} "
                         f"(known: {', '.join(SEVERITIES)})")
    store = _store(services)
    findings = store.find(status=None if status == "all" else status, include_decided=decided,
                          min_severity=Severity(min_severity) if min_severity else None,
                          limit=LISTED)
    trends = store.trends()
    by_severity = [(s, trends["open_by_severity"].get(s, 0)) for s in SEVERITIES]
    by_decision = [(d, trends["open_by_decision"].get(d, 0)) for d in SSVC_ORDER]
    return _page(request, "vulns.html", who, findings=findings, trends=trends,
                 by_severity=by_severity, by_decision=by_decision, status=status,
                 statuses=STATUSES, min_severity=min_severity, severities=SEVERITIES,
                 decided=decided, listed=LISTED)


@router.get("/vulns/{key}")
def finding_page(request: Request, key: Key, services: ServicesDep,
                 who: Reader) -> HTMLResponse:
    return _finding_page(request, services, who, key)


def _finding_page(request: Request, services: Services, who: Principal, key: str,
                  status: int = 200, **context: Any) -> HTMLResponse:
    store = _store(services)
    finding = store.get(key)
    history = store.decisions(key)
    in_force = next((d for d in history if d["in_force"]), None)
    now = store.clock()
    overdue = (finding["status"] == "open" and finding["due_at"] is not None
               and finding["due_at"] < now)
    context.setdefault("typed", {})
    page = _page(request, "vuln.html", who, finding=finding, inputs=finding["priority_inputs"],
                 formula=formula(finding["priority_inputs"], finding["risk"]),
                 history=history, in_force=in_force, overdue=overdue,
                 can_manage=who.can(Permission.VULNS_MANAGE), kinds=DECISIONS,
                 vex_states=VEX_STATES, **context)
    page.status_code = status
    return page


def formula(inputs: dict[str, Any], risk: float | None) -> str:
    """``100 × severity × threat × asset × exposure = risk`` with this finding's numbers."""
    factors = inputs.get("factors") or {}
    if not factors or risk is None:
        return ""
    numbers = " × ".join(_number(factors.get(name)) for name in FACTORS)
    return f"100 × {numbers} = {risk:.1f}"


def _number(value: Any) -> str:
    if not isinstance(value, int | float):
        return "?"
    return f"{float(value):.3f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.1f}"


def _expiry(value: str) -> datetime | None:
    """A date typed in the form: the acceptance ends at 00:00 UTC that day."""
    if not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"not a date: {value!r} (YYYY-MM-DD)") from None
    return datetime.combine(day, time(), tzinfo=UTC)


@router.post("/vulns/{key}/decisions")
def decide(request: Request, key: Key, services: ServicesDep, who: Manager,
           kind: Annotated[Literal["suppress", "accept", "vex"], Form()],
           reason: Annotated[str, Form(max_length=5000)] = "",
           expires_on: Annotated[str, Form(max_length=20)] = "",
           vex_state: Annotated[str, Form(max_length=30)] = "") -> Response:
    """Suppress, accept until a date or state VEX; a refused decision comes back as the
    page with the form as it was typed."""
    store = _store(services)
    try:
        store.decide(who.actor, key, kind, reason, expires_at=_expiry(expires_on),
                     vex_state=vex_state or None)
    except UsageError as error:
        return _finding_page(request, services, who, key, error.http_status,
                             error=f"not decided: {error.message}",
                             typed={"kind": kind, "reason": reason,
                                    "expires_on": expires_on, "vex_state": vex_state})
    return RedirectResponse(f"/vulns/{key}", status_code=303)


@router.post("/vulns/decisions/{decision_id}/revoke")
def revoke(decision_id: RowId, services: ServicesDep, who: Manager) -> Response:
    revoked = _store(services).revoke(who.actor, decision_id)
    return RedirectResponse(f"/vulns/{revoked['key']}", status_code=303)

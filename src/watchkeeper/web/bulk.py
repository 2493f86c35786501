"""Bulk triage from the alert queue: the selected alerts acknowledged, closed with a
verdict, or promoted into one case; the answer says which changed and which were skipped."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from watchkeeper.alerts import bulk
from watchkeeper.api.deps import MAX_ID, ServicesDep, allow
from watchkeeper.auth.principal import Principal, require
from watchkeeper.auth.roles import Permission
from watchkeeper.web.pages import _page

router = APIRouter(include_in_schema=False)
Triager = Annotated[Principal, Depends(allow(Permission.ALERTS_TRIAGE))]


@router.post("/alerts/bulk")
def bulk_triage(
    request: Request, services: ServicesDep, who: Triager,
    action: Annotated[str, Form(max_length=20)],
    ids: Annotated[list[Annotated[int, Form(ge=1, le=MAX_ID)]] | None, Form()] = None,
    verdict: Annotated[str | None, Form(max_length=20)] = None,
    note: Annotated[str | None, Form(max_length=10_000)] = None,
) -> HTMLResponse:
    """``promote`` also needs ``cases:manage``; a refused or empty request changes nothing."""
    if action == "promote":
        require(who, Permission.CASES_MANAGE)
    result = bulk.triage(services.alerts, services.cases, who.actor, ids or [], action,
                         verdict or None, note or None)
    return _page(request, "bulk.html", who, result=result)

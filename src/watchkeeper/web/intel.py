"""The threat-intel pages: the indicator store at a glance (counts by kind and source,
warning lists) with a search, and one indicator with its sources, score and sightings.
Reading needs ``intel:read``; recording a sighting and allowlisting ``intel:manage``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from watchkeeper.api.deps import RowId, ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.errors import UsageError
from watchkeeper.intel.model import Kind
from watchkeeper.web.pages import _page

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(allow(Permission.INTEL_READ))]
Manager = Annotated[Principal, Depends(allow(Permission.INTEL_MANAGE))]
STATES = ("all", "active", "inactive")
LISTED = 200


@router.get("/intel")
def intel_page(request: Request, services: ServicesDep, who: Reader,
               q: Annotated[str, Query(max_length=500)] = "",
               kind: Annotated[str, Query(max_length=20)] = "",
               state: Annotated[str, Query(max_length=10)] = "all",
               source: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    if kind and kind not in {k.value for k in Kind}:
        raise UsageError(f"unknown kind {kind!r} (known: {', '.join(k.value for k in Kind)})")
    if state not in STATES:
        raise UsageError(f"unknown state {state!r} (known: {', '.join(STATES)})")
    active = None if state == "all" else state == "active"
    found, total = services.intel.search(q.strip(), kind=kind or None, source=source or None,
                                         active=active, limit=LISTED)
    return _page(request, "intel.html", who, indicators=found, total=total,
                 stats=services.intel.stats(), q=q, kind=kind, state=state, source=source,
                 kinds=[k.value for k in Kind], states=STATES, listed=LISTED)


@router.get("/intel/{indicator_id}")
def indicator_page(request: Request, indicator_id: RowId, services: ServicesDep,
                   who: Reader) -> HTMLResponse:
    intel = services.intel
    return _page(request, "indicator.html", who, indicator=intel.get(indicator_id),
                 sightings=intel.sightings(indicator_id),
                 can_manage=who.can(Permission.INTEL_MANAGE))


@router.post("/intel/{indicator_id}/sightings")
def sight(indicator_id: RowId, services: ServicesDep, who: Manager,
          kind: Annotated[Literal["seen", "false-positive"], Form()],
          note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    services.intel.sight(who.actor, indicator_id, kind, note)
    return RedirectResponse(f"/intel/{indicator_id}", status_code=303)


@router.post("/intel/{indicator_id}/allow")
def allow_value(indicator_id: RowId, services: ServicesDep, who: Manager,
                reason: Annotated[str, Form(min_length=1, max_length=2000)]) -> Response:
    """Put the indicator's value on the allowlist: it stops matching, whatever feeds say."""
    indicator = services.intel.get(indicator_id)
    services.intel.allow(who.actor, indicator.kind.value, indicator.value, reason)
    return RedirectResponse(f"/intel/{indicator_id}", status_code=303)

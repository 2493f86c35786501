"""The handover page: the latest handover, a button to write one, a button to take it
over, and the past ones. The same permissions as the ``/api/v1/handovers`` routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from watchkeeper.api.deps import RowId, ServicesDep, allow
from watchkeeper.api.shifts import shifts_of
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.shifts.report import heading, sections
from watchkeeper.shifts.service import HandoverFilter
from watchkeeper.web.pages import _page

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(allow(Permission.CASES_READ))]
Writer = Annotated[Principal, Depends(allow(Permission.HANDOVERS_WRITE))]


@router.get("/handover")
def handover_page(request: Request, services: ServicesDep, who: Reader) -> HTMLResponse:
    shifts = shifts_of(services)
    latest = shifts.latest()
    past, total = shifts.list(HandoverFilter(limit=50))
    shown = None
    if latest is not None:
        title, about = heading(latest["content"])
        shown = {"title": title, "about": about, "sections": sections(latest["content"])}
    return _page(request, "handover.html", who, latest=latest, shown=shown, past=past,
                 total=total, roster=shifts.roster(), on_duty=shifts.on_duty(),
                 can_write=who.can(Permission.HANDOVERS_WRITE))


@router.post("/handover")
def write_handover(
    services: ServicesDep, who: Writer,
    shift: Annotated[str | None, Form(max_length=50)] = None,
) -> Response:
    shifts_of(services).generate(who.actor, shift or None)
    return RedirectResponse("/handover", status_code=303)


@router.post("/handover/{handover_id}/acknowledge")
def acknowledge_handover(handover_id: RowId, services: ServicesDep, who: Writer) -> Response:
    shifts_of(services).acknowledge(handover_id, who.actor)
    return RedirectResponse("/handover", status_code=303)

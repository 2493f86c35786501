"""``/api/v1/shifts`` (the roster) and ``/api/v1/handovers``: a thin router over
:class:`~watchkeeper.shifts.service.ShiftService`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field

from watchkeeper.api.deps import Offset, RowId, ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.search.values import as_utc
from watchkeeper.shifts.briefing import briefing
from watchkeeper.shifts.briefing import to_html as briefing_html
from watchkeeper.shifts.briefing import to_markdown as briefing_markdown
from watchkeeper.shifts.report import to_html
from watchkeeper.shifts.service import HandoverFilter, ShiftService

if TYPE_CHECKING:
    from watchkeeper.server.services import Services

router = APIRouter(prefix="/api/v1", tags=["shifts"])
Reader = Annotated[Principal, Depends(allow(Permission.CASES_READ))]
Writer = Annotated[Principal, Depends(allow(Permission.HANDOVERS_WRITE))]
RosterManager = Annotated[Principal, Depends(allow(Permission.SHIFTS_MANAGE))]


def shifts_of(services: Services) -> ShiftService:
    """The shift service over the server's state database and audit log (cheap to make)."""
    return ShiftService(services.db, services.audit, sla=services.cases.sla)


class ShiftIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    start: str = Field(max_length=5, description="HH:MM, UTC")
    end: str = Field(max_length=5, description="HH:MM, UTC; not after start: the next day")
    weekdays: list[str] = Field(default_factory=list, max_length=7)
    members: list[str] = Field(default_factory=list, max_length=200)


class Roster(BaseModel):
    shifts: list[ShiftIn] = Field(max_length=50)


class NewHandover(BaseModel):
    shift: str | None = Field(None, max_length=50, description="default: the shift on duty")


@router.get("/shifts")
def get_roster(services: ServicesDep, _: Reader) -> dict[str, Any]:
    """The roster, and the shift on duty now."""
    shifts = shifts_of(services)
    return {"shifts": [s.as_dict() for s in shifts.roster()], "on_duty": shifts.on_duty()}


@router.put("/shifts")
def put_roster(body: Roster, services: ServicesDep, who: RosterManager) -> dict[str, Any]:
    """Replace the whole roster."""
    made = shifts_of(services).set_roster(who.actor, [s.model_dump() for s in body.shifts])
    return {"shifts": [s.as_dict() for s in made]}


@router.post("/handovers", status_code=status.HTTP_201_CREATED)
def create_handover(body: NewHandover, services: ServicesDep, who: Writer) -> dict[str, Any]:
    return shifts_of(services).generate(who.actor, body.shift)


@router.get("/handovers")
def list_handovers(
    services: ServicesDep,
    _: Reader,
    q: Annotated[str | None, Query(max_length=200)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Handovers newest first; ``q`` searches their text, shift and author."""
    wanted = HandoverFilter(q=q or None, since=None if since is None else as_utc(since),
                            until=None if until is None else as_utc(until),
                            limit=limit, offset=offset)
    found, total = shifts_of(services).list(wanted)
    return {"total": total, "handovers": found}


@router.get("/handovers/{handover_id}", response_model=None)
def get_handover(
    handover_id: RowId, services: ServicesDep, _: Reader,
    format: Literal["json", "markdown", "html"] = "json",
) -> dict[str, Any] | Response:
    handover = shifts_of(services).get(handover_id)
    if format == "markdown":
        return PlainTextResponse(handover["markdown"], media_type="text/markdown; charset=utf-8")
    if format == "html":
        return HTMLResponse(to_html(handover))
    return handover


@router.post("/handovers/{handover_id}/acknowledge")
def acknowledge(handover_id: RowId, services: ServicesDep, who: Writer) -> dict[str, Any]:
    return shifts_of(services).acknowledge(handover_id, who.actor)


MetricsReader = Annotated[Principal, Depends(allow(Permission.METRICS_READ))]


@router.get("/briefing", response_model=None)
def get_briefing(
    services: ServicesDep, _: MetricsReader,
    kind: Literal["daily", "weekly"] = "daily",
    format: Literal["json", "markdown", "html"] = "json",
) -> dict[str, Any] | Response:
    """The day's (or week's) briefing, ending now: alerts, cases, response times,
    noisiest rules, notable changes (docs/handover.md)."""
    with services.db.read() as session:
        content = briefing(session, kind, datetime.now(UTC))
    if format == "markdown":
        return PlainTextResponse(briefing_markdown(content), media_type="text/markdown")
    if format == "html":
        return HTMLResponse(briefing_html(content))
    return content

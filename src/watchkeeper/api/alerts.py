"""``/api/v1/alerts``: the queue, one alert, and its lifecycle."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from watchkeeper.alerts import bulk
from watchkeeper.alerts.service import AlertFilter
from watchkeeper.api.deps import MAX_ID, Offset, RowId, ServicesDep, allow
from watchkeeper.auth.principal import Principal, require
from watchkeeper.auth.roles import Permission
from watchkeeper.search.values import as_utc

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
Reader = Annotated[Principal, Depends(allow(Permission.ALERTS_READ))]
Triager = Annotated[Principal, Depends(allow(Permission.ALERTS_TRIAGE))]


class Note(BaseModel):
    note: str | None = Field(None, max_length=10_000)


class Closing(Note):
    verdict: Literal["true_positive", "false_positive", "benign"]


class Bulk(Note):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1,
                                                               max_length=bulk.MAX_IDS)
    action: Literal["acknowledge", "close", "promote"]
    verdict: Literal["true_positive", "false_positive", "benign"] | None = None


@router.get("")
def list_alerts(
    services: ServicesDep,
    _: Reader,
    status: Annotated[list[str] | None, Query()] = None,
    level: Annotated[list[str] | None, Query()] = None,
    rule_id: str | None = None,
    host: str | None = None,
    min_risk: Annotated[int | None, Query(ge=0, le=100)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    sort: str = "risk",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The alert queue, highest risk first unless ``sort`` says otherwise."""
    wanted = AlertFilter(
        status=tuple(status or ()), level=tuple(level or ()), rule_id=rule_id, host=host,
        min_risk=min_risk, since=None if since is None else as_utc(since),
        until=None if until is None else as_utc(until), sort=sort, limit=limit, offset=offset,
    )
    alerts, total = services.alerts.list(wanted)
    return {"total": total, "alerts": alerts}


@router.get("/{alert_id}")
def get_alert(alert_id: RowId, services: ServicesDep, _: Reader) -> dict[str, Any]:
    return services.alerts.get(alert_id)


@router.post("/{alert_id}/acknowledge")
def acknowledge(alert_id: RowId, body: Note, services: ServicesDep, who: Triager) -> dict[str, Any]:
    return services.alerts.acknowledge(alert_id, who.actor, body.note)


@router.post("/{alert_id}/close")
def close(alert_id: RowId, body: Closing, services: ServicesDep, who: Triager) -> dict[str, Any]:
    return services.alerts.close(alert_id, who.actor, body.verdict, body.note)


@router.post("/{alert_id}/reopen")
def reopen(alert_id: RowId, body: Note, services: ServicesDep, who: Triager) -> dict[str, Any]:
    return services.alerts.reopen(alert_id, who.actor, body.note)


@router.post("/bulk")
def bulk_triage(body: Bulk, services: ServicesDep, who: Triager) -> dict[str, Any]:
    """Acknowledge, close (with ``verdict``) or promote into one case (also needs
    ``cases:manage``) every alert of ``ids``; those that cannot change are skipped, with
    the reason, and the others still change."""
    if body.action == "promote":
        require(who, Permission.CASES_MANAGE)
    return bulk.triage(services.alerts, services.cases, who.actor, body.ids, body.action,
                       body.verdict, body.note).as_dict()

"""``/api/v1/cases``: incidents opened from alerts, their workflow, tasks, comments, timeline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field

from watchkeeper.api.deps import MAX_ID, Offset, RowId, ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.cases.escalation import SlaWatch
from watchkeeper.cases.report import to_html, to_markdown
from watchkeeper.cases.review import ActionItem, Review, set_review
from watchkeeper.cases.service import NewCase
from watchkeeper.search.values import as_utc

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Reader = Annotated[Principal, Depends(allow(Permission.CASES_READ))]
Manager = Annotated[Principal, Depends(allow(Permission.CASES_MANAGE))]
Text = Annotated[str, Field(max_length=500)]


class CaseIn(BaseModel):
    title: Text
    severity: str = "medium"
    priority: str | None = None
    description: str = Field("", max_length=20_000)
    assignee: str | None = Field(None, max_length=200)
    team: str | None = Field(None, max_length=200)
    tags: list[Text] = Field(default_factory=list, max_length=50)
    tlp: str = "amber"
    alert_ids: list[Id] = Field(default_factory=list, max_length=1000)
    template: str | None = Field(None, max_length=100)


class PromoteIn(BaseModel):
    template: str | None = Field(None, max_length=100)


class CaseChange(BaseModel):
    status: str | None = None
    severity: str | None = None
    priority: str | None = None
    assignee: str | None = Field(None, max_length=200)
    team: str | None = Field(None, max_length=200)
    tags: list[Text] | None = Field(None, max_length=50)
    tlp: str | None = None
    title: Text | None = None
    description: str | None = Field(None, max_length=20_000)


class AlertIds(BaseModel):
    alert_ids: list[Id] = Field(min_length=1, max_length=1000)


class TaskIn(BaseModel):
    title: Text
    assignee: str | None = Field(None, max_length=200)
    due_at: datetime | None = None


class TaskState(BaseModel):
    status: str


class ActionItemIn(BaseModel):
    title: Text
    assignee: str | None = Field(None, max_length=200)


class ReviewIn(BaseModel):
    what_happened: str = Field("", max_length=20_000)
    what_worked: str = Field("", max_length=20_000)
    what_to_change: str = Field("", max_length=20_000)
    action_items: list[ActionItemIn] = Field(default_factory=list, max_length=100)


class CommentIn(BaseModel):
    body: str = Field(min_length=1, max_length=20_000)
    parent_id: Id | None = None


@router.get("")
def list_cases(
    services: ServicesDep,
    _: Reader,
    status: Annotated[list[str] | None, Query()] = None,
    assignee: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    cases, total = services.cases.find(tuple(status or ()), assignee, limit, offset)
    return {"total": total, "cases": cases}


@router.post("", status_code=201)
def create_case(body: CaseIn, services: ServicesDep, who: Manager) -> dict[str, Any]:
    new = NewCase(title=body.title, severity=body.severity, priority=body.priority,
                  description=body.description, assignee=body.assignee, team=body.team,
                  tags=tuple(body.tags), tlp=body.tlp)
    return services.cases.create(who.actor, new, tuple(body.alert_ids), body.template,
                                 keep_severity="severity" in body.model_fields_set)


@router.post("/from-alert/{alert_id}", status_code=201)
def promote(alert_id: RowId, services: ServicesDep, who: Manager,
            body: PromoteIn | None = None) -> dict[str, Any]:
    """A new case holding one alert (title and severity from it), optionally from a template."""
    return services.cases.promote(who.actor, alert_id, body.template if body else None)


@router.get("/templates")
def templates(services: ServicesDep, _: Reader) -> dict[str, Any]:
    return {"templates": [t.as_dict() for t in services.cases.templates.all()]}


@router.get("/sla")
def sla(services: ServicesDep, _: Reader) -> dict[str, Any]:
    """Open cases with an SLA breached or at risk, most urgent first."""
    watch = SlaWatch(services.cases, services.settings.cases.sla_escalate_to)
    return {"cases": watch.overdue(datetime.now(UTC))}


@router.get("/{case_id}")
def get_case(case_id: RowId, services: ServicesDep, _: Reader) -> dict[str, Any]:
    return services.cases.get(case_id)


@router.patch("/{case_id}")
def update_case(
    case_id: RowId, body: CaseChange, services: ServicesDep, who: Manager
) -> dict[str, Any]:
    return services.cases.update(who.actor, case_id, body.model_dump(exclude_unset=True))


@router.post("/{case_id}/alerts")
def add_alerts(
    case_id: RowId, body: AlertIds, services: ServicesDep, who: Manager
) -> dict[str, Any]:
    return services.cases.add_alerts(who.actor, case_id, tuple(body.alert_ids))


@router.post("/{case_id}/tasks", status_code=201)
def add_task(case_id: RowId, body: TaskIn, services: ServicesDep, who: Manager) -> dict[str, Any]:
    due = None if body.due_at is None else as_utc(body.due_at)
    return services.cases.add_task(who.actor, case_id, body.title, body.assignee, due)


@router.post("/{case_id}/tasks/{task_id}")
def set_task(
    case_id: RowId, task_id: RowId, body: TaskState, services: ServicesDep, who: Manager
) -> dict[str, Any]:
    return services.cases.set_task(who.actor, case_id, task_id, body.status)


@router.post("/{case_id}/comments", status_code=201)
def comment(
    case_id: RowId, body: CommentIn, services: ServicesDep, who: Manager
) -> dict[str, Any]:
    return services.cases.comment(who.actor, case_id, body.body, body.parent_id)


@router.get("/{case_id}/timeline")
def timeline(case_id: RowId, services: ServicesDep, _: Reader) -> dict[str, Any]:
    return {"timeline": services.cases.timeline(case_id)}


@router.put("/{case_id}/review")
def review(case_id: RowId, body: ReviewIn, services: ServicesDep, who: Manager) -> dict[str, Any]:
    """The post-incident review (409 unless resolved or closed); new action items become
    tasks."""
    items = tuple(ActionItem(i.title, i.assignee) for i in body.action_items)
    return set_review(services.cases, who.actor, case_id,
                      Review(body.what_happened, body.what_worked, body.what_to_change, items))


@router.get("/{case_id}/report")
def report(
    case_id: RowId, services: ServicesDep, _: Reader,
    format: Annotated[Literal["markdown", "html"], Query()] = "markdown",
) -> Response:
    """The post-mortem report: Markdown, or a self-contained HTML page."""
    case, timeline = services.cases.get(case_id), services.cases.timeline(case_id)
    if format == "html":
        return HTMLResponse(to_html(case, timeline))
    return PlainTextResponse(to_markdown(case, timeline), media_type="text/markdown")

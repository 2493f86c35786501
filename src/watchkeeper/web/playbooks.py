"""The response pages: playbooks (with a start form and dry runs), runs, approvals to
decide, and the containment in force with its roll back. Reading needs ``playbooks:read``;
deciding ``approvals:decide`` (and being among the approval's deciders); starting,
cancelling and rolling back ``actions:run``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from watchkeeper.api.deps import RowId, ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.errors import UsageError
from watchkeeper.response.containment import UNDOABLE
from watchkeeper.response.runs import ACTIVE, FINISHED
from watchkeeper.web.pages import _page
from watchkeeper.web.response_view import (
    INPUT_FIELD,
    form_inputs,
    may_decide,
    playbook_state,
    seconds_until,
    step_tree,
    trigger_summary,
)

if TYPE_CHECKING:
    from watchkeeper.server.services import Services

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(allow(Permission.PLAYBOOKS_READ))]
Runner = Annotated[Principal, Depends(allow(Permission.ACTIONS_RUN))]
Decider = Annotated[Principal, Depends(allow(Permission.APPROVALS_DECIDE))]
Name = Annotated[str, Path(max_length=100)]
RUN_STATUSES = (*ACTIVE, *FINISHED)
APPROVAL_STATUSES = ("pending", "approved", "rejected", "expired", "cancelled", "all")
CONTAINMENT_STATUSES = ("active", "rolling_back", "rollback_failed", "rolled_back")
RECENT_RUNS = 20
LISTED = 200


async def _input_fields(request: Request) -> dict[str, str]:
    """The start form's ``input.<name>`` fields, whatever the playbook's inputs are."""
    form = await request.form()
    return {key: value for key, value in form.multi_items()
            if key.startswith(INPUT_FIELD) and isinstance(value, str)}


Fields = Annotated[dict[str, str], Depends(_input_fields)]


# playbooks -----------------------------------------------------------------------------------

@router.get("/playbooks")
def playbooks_page(request: Request, services: ServicesDep, who: Reader) -> HTMLResponse:
    response = services.response
    library = response.library()
    rows = [{"loaded": loaded, "state": playbook_state(loaded, response.active(loaded)),
             "triggers": [trigger_summary(t) for t in loaded.playbook.triggers]}
            for loaded in (library.playbooks[name] for name in library.names())]
    return _page(request, "playbooks.html", who, playbooks=rows, errors=library.errors)


@router.get("/playbooks/{name}")
def playbook_page(request: Request, name: Name, services: ServicesDep,
                  who: Reader) -> HTMLResponse:
    return _playbook_page(request, services, who, name)


def _playbook_page(request: Request, services: Services, who: Principal, name: str,
                   status: int = 200, **context: Any) -> HTMLResponse:
    response = services.response
    loaded = response.library().get(name)
    runs, total = response.runs.find(playbook=name, limit=RECENT_RUNS)
    context.setdefault("typed", {})
    page = _page(request, "playbook.html", who, loaded=loaded, playbook=loaded.playbook,
                 state=playbook_state(loaded, response.active(loaded)),
                 triggers=[trigger_summary(t) for t in loaded.playbook.triggers],
                 steps=step_tree(loaded.playbook.steps), runs=runs, total=total,
                 can_run=who.can(Permission.ACTIONS_RUN), input_field=INPUT_FIELD, **context)
    page.status_code = status
    return page


@router.post("/playbooks/{name}/run")
def start_run(request: Request, name: Name, services: ServicesDep, who: Runner,
              fields: Fields) -> Response:
    """A run started by hand; a refused input comes back as the page with the form as
    it was typed."""
    loaded = services.response.library().get(name)
    try:
        inputs = form_inputs(loaded.playbook.inputs, fields)
        run = services.response.start_manual(who.actor, name, inputs)
    except UsageError as error:
        return _playbook_page(request, services, who, name, error.http_status,
                              error=f"run not started: {error.message}", typed=fields)
    return RedirectResponse(f"/runs/{run['id']}", status_code=303)


@router.post("/playbooks/{name}/dry-run")
def dry_run(request: Request, name: Name, services: ServicesDep, who: Runner,
            fields: Fields) -> HTMLResponse:
    """The playbook's page with what a run would do now, step by step; nothing is done."""
    loaded = services.response.library().get(name)
    try:
        inputs = form_inputs(loaded.playbook.inputs, fields)
        report = services.response.dry_run(name, {"manual": {"by": who.actor}}, inputs)
    except UsageError as error:
        return _playbook_page(request, services, who, name, error.http_status,
                              error=f"dry run not possible: {error.message}", typed=fields)
    return _playbook_page(request, services, who, name, report=report, typed=fields)


# runs ----------------------------------------------------------------------------------------

@router.get("/runs")
def runs_page(request: Request, services: ServicesDep, who: Reader,
              playbook: Annotated[str, Query(max_length=100)] = "",
              status: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    if status and status not in RUN_STATUSES:
        raise UsageError(f"unknown status {status!r} (known: {', '.join(RUN_STATUSES)})")
    runs, total = services.response.runs.find(playbook=playbook or None, status=status or None,
                                              limit=LISTED)
    return _page(request, "runs.html", who, runs=runs, total=total, playbook=playbook,
                 status=status, statuses=RUN_STATUSES,
                 names=services.response.library().names())


@router.get("/runs/{run_id}")
def run_page(request: Request, run_id: RowId, services: ServicesDep,
             who: Reader) -> HTMLResponse:
    response = services.response
    run = response.runs.get(run_id)
    approvals = [response.approvals.get(a["id"]) for a in run["approvals"]]
    return _page(request, "run.html", who, run=run, approvals=approvals,
                 active=run["status"] in ACTIVE, can_run=who.can(Permission.ACTIONS_RUN),
                 undoable=UNDOABLE)


@router.post("/runs/{run_id}/cancel")
def cancel_run(run_id: RowId, services: ServicesDep, who: Runner) -> Response:
    services.response.runs.cancel(who.actor, run_id)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


# approvals -----------------------------------------------------------------------------------

@router.get("/approvals")
def approvals_page(request: Request, services: ServicesDep, who: Reader,
                   status: Annotated[str, Query(max_length=20)] = "pending") -> HTMLResponse:
    if status not in APPROVAL_STATUSES:
        raise UsageError(f"unknown status {status!r} (known: {', '.join(APPROVAL_STATUSES)})")
    desk = services.response.approvals
    now = services.response.clock()
    found = desk.find(status=None if status == "all" else status, limit=LISTED)
    approvals = []
    for summary in found:
        approval = desk.get(summary["id"])
        approvals.append({**approval, "may_decide": may_decide(services, who, approval),
                          "left_s": seconds_until(approval["expires_at"], now)})
    return _page(request, "approvals.html", who, approvals=approvals, status=status,
                 statuses=APPROVAL_STATUSES)


@router.post("/approvals/{approval_id}/decide")
def decide(approval_id: RowId, services: ServicesDep, who: Decider,
           decision: Annotated[str, Form(max_length=10)],
           comment: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Approve or reject, then walk the run on at once (a worker would within a second),
    and show the run as it now stands."""
    response = services.response
    approval = response.approvals.decide(who, approval_id, decision, comment.strip(),
                                         response.clock())
    if approval["status"] != "pending":
        response.runs.advance(approval["run_id"])
    return RedirectResponse(f"/runs/{approval['run_id']}", status_code=303)


# containment ---------------------------------------------------------------------------------

@router.get("/containment")
def containment_page(request: Request, services: ServicesDep, who: Reader,
                     status: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    if status and status not in CONTAINMENT_STATUSES:
        raise UsageError(f"unknown status {status!r} "
                         f"(known: {', '.join(CONTAINMENT_STATUSES)})")
    entries = services.response.ledger.find(status=status or None, limit=LISTED)
    return _page(request, "containment.html", who, entries=entries, status=status,
                 statuses=CONTAINMENT_STATUSES, can_run=who.can(Permission.ACTIONS_RUN),
                 undoable=UNDOABLE)


@router.post("/containment/{containment_id}/rollback")
def roll_back(containment_id: RowId, services: ServicesDep, who: Runner,
              reason: Annotated[str, Form(max_length=2000)] = "",
              back: Annotated[Literal["containment", "run", "case"], Form()] = "containment",
              ) -> Response:
    """Run the entry's undo now; back to the page the button was on (``back``)."""
    response = services.response
    entry = response.ledger.rollback(who.actor, containment_id, response.clock(),
                                     reason.strip())
    target = "/containment"
    if back == "run" and entry["run_id"] is not None:
        target = f"/runs/{entry['run_id']}"
    elif back == "case" and entry["case_id"] is not None:
        target = f"/cases/{entry['case_id']}"
    return RedirectResponse(target, status_code=303)


# cases ---------------------------------------------------------------------------------------

@router.post("/cases/{case_id}/playbooks")
def start_on_case(case_id: RowId, services: ServicesDep, who: Runner,
                  playbook: Annotated[str, Form(max_length=100)]) -> Response:
    """A playbook started from a case page, on that case."""
    services.cases.get(case_id)  # no case: 404 before anything starts
    run = services.response.start_manual(who.actor, playbook, {}, case_id=case_id)
    return RedirectResponse(f"/runs/{run['id']}", status_code=303)

"""``/api/v1/playbooks``, ``/api/v1/playbook-runs``, ``/api/v1/approvals``,
``/api/v1/containment`` and ``/api/v1/connectors``: response automation over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from watchkeeper.api.deps import MAX_ID, Offset, RowId, ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.errors import PayloadTooLarge
from watchkeeper.response.loader import LoadedPlaybook, schema
from watchkeeper.response.metrics import playbook_metrics
from watchkeeper.response.service import Webhook
from watchkeeper.response.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER

router = APIRouter(prefix="/api/v1", tags=["response"])
Reader = Annotated[Principal, Depends(allow(Permission.PLAYBOOKS_READ))]
Runner = Annotated[Principal, Depends(allow(Permission.ACTIONS_RUN))]
Decider = Annotated[Principal, Depends(allow(Permission.APPROVALS_DECIDE))]
Admin = Annotated[Principal, Depends(allow(Permission.CONNECTORS_MANAGE))]
Name = Annotated[str, Field(max_length=100)]
Limit = Annotated[int, Query(ge=1, le=500)]
MAX_WEBHOOK_BYTES = 1 << 20


class RunIn(BaseModel):
    inputs: dict[str, Any] = Field(default_factory=dict)
    case_id: int | None = Field(None, ge=1, le=MAX_ID)
    alert_id: int | None = Field(None, ge=1, le=MAX_ID)


class DryRunIn(BaseModel):
    trigger: dict[str, Any] = Field(default_factory=dict)
    """What ``trigger`` holds in templates, e.g. ``{"alert": {...}}``."""
    inputs: dict[str, Any] = Field(default_factory=dict)


class DecisionIn(BaseModel):
    decision: str = Field(pattern="^(approve|reject)$")
    comment: str = Field("", max_length=2000)


class RollbackIn(BaseModel):
    reason: str = Field("", max_length=2000)


def summary(services: Any, loaded: LoadedPlaybook) -> dict[str, Any]:
    playbook = loaded.playbook
    return {"name": loaded.name, "title": playbook.title, "version": loaded.version,
            "origin": loaded.origin, "builtin": loaded.builtin, "enabled": playbook.enabled,
            "active": services.response.active(loaded), "tags": playbook.tags,
            "triggers": [t.kind for t in playbook.triggers], "tests": len(playbook.tests)}


@router.get("/playbooks")
def list_playbooks(services: ServicesDep, _: Reader) -> dict[str, Any]:
    """Every playbook loaded, and the files that could not be (with every problem found)."""
    library = services.response.library()
    return {"playbooks": [summary(services, library.playbooks[name])
                          for name in library.names()],
            "errors": [{"location": e.location, "problems": e.problems}
                       for e in library.errors]}


@router.get("/playbooks/schema")
def playbook_schema(_: Reader) -> dict[str, Any]:
    """The JSON Schema of a playbook file."""
    return schema()


@router.get("/playbooks/actions")
def list_actions(services: ServicesDep, _: Reader) -> list[dict[str, Any]]:
    """Every action a playbook can take: inputs, outputs, connectors, undo."""
    actions = services.response.actions
    return [actions.get(name).describe() for name in actions.names()]


@router.get("/playbooks/metrics")
def metrics(services: ServicesDep, _: Reader) -> dict[str, Any]:
    """Per playbook: runs by outcome, durations, time waiting for approval, actions taken
    and rolled back, and the MTTR of cases handled with it against those without."""
    return playbook_metrics(services.db)


@router.get("/playbooks/{name}")
def get_playbook(name: Name, services: ServicesDep, _: Reader) -> dict[str, Any]:
    loaded = services.response.library().get(name)
    return {**summary(services, loaded), "source": loaded.source,
            "definition": loaded.playbook.model_dump(mode="json", by_alias=True,
                                                     exclude={"tests"})}


@router.post("/playbooks/{name}/runs", status_code=201)
def start_run(name: Name, body: RunIn, services: ServicesDep, who: Runner,
              background: BackgroundTasks) -> dict[str, Any]:
    """Start a run by hand. The answer is the queued run; it is walked right after the
    answer is sent (follow it at ``/api/v1/playbook-runs/{id}``)."""
    run = services.response.start_manual(who.actor, name, body.inputs, case_id=body.case_id,
                                         alert_id=body.alert_id, walk=False)
    background.add_task(services.response.runs.advance, run["id"])
    return run


@router.post("/playbooks/{name}/dry-run")
def dry_run(name: Name, body: DryRunIn, services: ServicesDep, _: Runner) -> dict[str, Any]:
    """What a run would do, step by step, and everything it would touch: nothing is done,
    no approval is asked."""
    return services.response.dry_run(name, body.trigger, body.inputs)


@router.post("/playbooks/{name}/webhook", status_code=202)
async def webhook(name: Name, request: Request, services: ServicesDep) -> dict[str, Any]:
    """Start a run from another system. No token: the body is signed with the playbook's
    webhook secret (see docs/playbooks.md); its JSON object becomes the run's inputs."""
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        raise PayloadTooLarge(f"a webhook body is {MAX_WEBHOOK_BYTES} bytes at most")
    delivery = Webhook(request.headers.get(TIMESTAMP_HEADER),
                       request.headers.get(SIGNATURE_HEADER), body)
    run = await run_in_threadpool(services.response.webhook, name, delivery)
    return {"run_id": run["id"], "status": run["status"]}


@router.get("/playbook-runs")
def list_runs(services: ServicesDep, _: Reader, playbook: str | None = None,
              status: str | None = None,
              case_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
              limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    rows, total = services.response.runs.find(playbook, status, case_id, limit, offset)
    return {"runs": rows, "total": total}


@router.get("/playbook-runs/{run_id}")
def get_run(run_id: RowId, services: ServicesDep, _: Reader) -> dict[str, Any]:
    """A run with every step (inputs, outputs, attempts, errors), its approvals and the
    containment it put in force."""
    return services.response.runs.get(run_id)


@router.post("/playbook-runs/{run_id}/cancel")
def cancel_run(run_id: RowId, services: ServicesDep, who: Runner) -> dict[str, Any]:
    return services.response.runs.cancel(who.actor, run_id)


@router.get("/approvals")
def list_approvals(services: ServicesDep, who: Reader, status: str | None = "pending",
                   run_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                   limit: Limit = 100) -> list[dict[str, Any]]:
    """Approvals (pending ones by default), each saying whether the caller may decide it."""
    desk = services.response.approvals
    return [{**row, "may_decide": who.can(Permission.APPROVALS_DECIDE) and
             desk.may_decide(who, row)}
            for row in desk.find(None if status == "all" else status, run_id, limit)]


@router.get("/approvals/{approval_id}")
def get_approval(approval_id: RowId, services: ServicesDep, _: Reader) -> dict[str, Any]:
    return services.response.approvals.get(approval_id)


@router.post("/approvals/{approval_id}/decision")
def decide(approval_id: RowId, body: DecisionIn, services: ServicesDep, who: Decider,
           background: BackgroundTasks) -> dict[str, Any]:
    """Approve or reject. Refused (403) for someone the approval does not name, and for the
    run's starter under four eyes; 409 once decided or past its deadline. Once decided,
    the run goes on right after the answer is sent."""
    response = services.response
    decided = response.approvals.decide(who, approval_id, body.decision, body.comment,
                                        datetime.now(UTC))
    if decided["status"] != "pending":
        background.add_task(response.runs.advance, decided["run_id"])
    return decided


@router.get("/containment")
def list_containment(services: ServicesDep, _: Reader, status: str | None = None,
                     case_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                     limit: Limit = 100) -> list[dict[str, Any]]:
    return services.response.ledger.find(status, case_id, None, limit)


@router.post("/containment/{containment_id}/rollback")
def rollback(containment_id: RowId, body: RollbackIn, services: ServicesDep,
             who: Runner) -> dict[str, Any]:
    """Run the undo of a containment action now (an IP unblocked, a host released)."""
    return services.response.ledger.rollback(who.actor, containment_id, datetime.now(UTC),
                                             body.reason)


class ConnectorIn(BaseModel):
    type: str = Field(max_length=50)
    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, Annotated[str, Field(max_length=10_000)]] | None = Field(
        None, max_length=50)
    """Secret values, encrypted at rest and never returned; leave out to keep the stored
    ones when updating."""
    allow_private: bool = False


@router.get("/connectors")
def list_connectors(services: ServicesDep, _: Admin) -> list[dict[str, Any]]:
    """Every connector: type, config, the names of its secrets (never their values)."""
    return services.response.connectors.list()


@router.get("/connectors/{name}")
def get_connector(name: Name, services: ServicesDep, _: Admin) -> dict[str, Any]:
    return services.response.connectors.describe(name)


@router.put("/connectors/{name}")
def put_connector(name: Name, body: ConnectorIn, services: ServicesDep,
                  who: Admin) -> dict[str, Any]:
    """Create or replace a connector; its config is checked against its type."""
    return services.response.connectors.put(who.actor, name, body.type, body.config,
                                            body.secrets, body.allow_private)


@router.delete("/connectors/{name}", status_code=204)
def delete_connector(name: Name, services: ServicesDep, who: Admin) -> Response:
    services.response.connectors.delete(who.actor, name)
    return Response(status_code=204)

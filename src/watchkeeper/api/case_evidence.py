"""``/api/v1/cases/{id}/observables``, ``/evidence`` and ``/killchain``: what a case
gathers beyond its alerts, and how far the attack it holds has progressed."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from watchkeeper.api.deps import RowId, ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.cases.evidence import EvidenceService
from watchkeeper.cases.grouping import GroupingService
from watchkeeper.cases.observables import ObservableService
from watchkeeper.errors import UsageError

if TYPE_CHECKING:
    from watchkeeper.server.services import Services

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])
Reader = Annotated[Principal, Depends(allow(Permission.CASES_READ))]
Manager = Annotated[Principal, Depends(allow(Permission.CASES_MANAGE))]

EVIDENCE_UPLOAD = re.compile(r"/api/v1/cases/[0-9]+/evidence")
MULTIPART_SLACK = 64 << 10
"""Room for the multipart framing and form fields around an evidence file."""
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


def wider_limits(services: Services) -> tuple[tuple[str, re.Pattern[str], int], ...]:
    """The body limit of evidence uploads: the evidence size limit and the framing."""
    return (("POST", EVIDENCE_UPLOAD, services.settings.cases.evidence_max_bytes
             + MULTIPART_SLACK),)


def observables_of(services: Services) -> ObservableService:
    """Observables, each looked up in the indicator store as it is added."""
    from watchkeeper.response.lookups import ServerLookups

    lookups = ServerLookups(services.assets, services.store, services.intel)
    return ObservableService(services.db, services.audit, services.store, lookups.indicator)


def evidence_of(services: Services) -> EvidenceService:
    settings = services.settings
    return EvidenceService(services.db, services.audit, settings.data_dir / "evidence",
                           settings.cases.evidence_max_bytes)


def grouping_of(services: Services) -> GroupingService:
    return GroupingService(services.db, services.cases,
                           services.settings.cases.grouping_window_s)


class ObservableIn(BaseModel):
    kind: str = Field(max_length=20)
    value: str = Field(min_length=1, max_length=1000)
    note: str | None = Field(None, max_length=2000)


@router.get("/{case_id}/observables")
def list_observables(case_id: RowId, services: ServicesDep, _: Reader) -> dict[str, Any]:
    return {"observables": observables_of(services).list(case_id)}


@router.post("/{case_id}/observables", status_code=201)
def add_observable(
    case_id: RowId, body: ObservableIn, services: ServicesDep, who: Manager
) -> dict[str, Any]:
    return observables_of(services).add(who.actor, case_id, body.kind, body.value, body.note)


@router.get("/{case_id}/evidence")
def list_evidence(case_id: RowId, services: ServicesDep, _: Reader) -> dict[str, Any]:
    return {"evidence": evidence_of(services).list(case_id)}


@router.post("/{case_id}/evidence", status_code=201)
async def add_evidence(
    case_id: RowId, request: Request, services: ServicesDep, who: Manager
) -> dict[str, Any]:
    """A multipart upload with the file in the field ``file``. The body is read only
    after the caller is known to hold ``cases:manage``."""
    form = await request.form(max_files=1, max_fields=10)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise UsageError("send the file as multipart/form-data in the field 'file'")
        return await run_in_threadpool(
            evidence_of(services).add, who.actor, case_id, upload.filename,
            upload.content_type, upload.file)
    finally:
        await form.close()


@router.get("/{case_id}/evidence/{evidence_id}")
def download_evidence(
    case_id: RowId, evidence_id: RowId, services: ServicesDep, _: Reader
) -> FileResponse:
    """The file as an attachment, typed as bytes: a browser neither shows nor runs it."""
    found, path = evidence_of(services).file(case_id, evidence_id)
    return FileResponse(path, media_type="application/octet-stream", filename=found["name"],
                        content_disposition_type="attachment", headers=DOWNLOAD_HEADERS)


@router.get("/{case_id}/killchain")
def killchain(case_id: RowId, services: ServicesDep, _: Reader) -> dict[str, Any]:
    """The ATT&CK tactics of the case's alerts in kill-chain order."""
    return {"tactics": grouping_of(services).killchain(case_id)}

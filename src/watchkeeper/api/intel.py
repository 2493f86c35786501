"""``/api/v1/intel``: indicators, imports, sightings, lookups and the allowlist.

Feeds are in :mod:`watchkeeper.api.intel_feeds`.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from watchkeeper.api.deps import Offset, RowId, ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.errors import ConflictError, PayloadTooLarge, UsageError
from watchkeeper.intel.importing import mapping_of, override, parse_document
from watchkeeper.intel.model import IndicatorIn, Kind, StoredIndicator
from watchkeeper.search.values import as_utc

router = APIRouter(prefix="/api/v1/intel", tags=["intel"])
Reader = Annotated[Principal, Depends(allow(Permission.INTEL_READ))]
Manager = Annotated[Principal, Depends(allow(Permission.INTEL_MANAGE))]
Text = Annotated[str, Field(max_length=500)]

MAX_IMPORT_BYTES = 256 << 20
WIDER_LIMITS = (("POST", re.compile(r"^/api/v1/intel/import$"), MAX_IMPORT_BYTES),)
"""Feed documents are larger than other request bodies."""


class IndicatorBody(BaseModel):
    kind: Kind
    value: str = Field(min_length=1, max_length=2048)
    confidence: int = Field(50, ge=0, le=100)
    tlp: str = Field("amber", max_length=20)
    tags: list[Text] = Field(default_factory=list, max_length=50)
    attack: list[Annotated[str, Field(pattern=r"^T\d{4}(\.\d{3})?$")]] = Field(
        default_factory=list, max_length=50)
    threat: str | None = Field(None, max_length=500)
    description: str = Field("", max_length=5000)
    valid_until: datetime | None = None


class SightingBody(BaseModel):
    kind: Literal["seen", "false-positive"]
    note: str = Field("", max_length=2000)


class AllowBody(BaseModel):
    kind: Kind
    value: str = Field(min_length=1, max_length=2048)
    reason: str = Field("", max_length=2000)


def indicator_dict(indicator: StoredIndicator) -> dict[str, Any]:
    return asdict(indicator)


@router.get("/indicators")
def search(services: ServicesDep, _: Reader,
           q: Annotated[str, Query(max_length=2048)] = "", kind: Kind | None = None,
           source: Annotated[str | None, Query(max_length=200)] = None,
           active: bool | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 50,
           offset: Offset = 0) -> dict[str, Any]:
    """Indicators whose value or threat contains ``q``, most recently changed first."""
    items, total = services.intel.search(q, kind=kind, source=source, active=active,
                                         limit=limit, offset=offset)
    return {"items": [indicator_dict(i) for i in items], "total": total}


@router.get("/indicators/{indicator_id}")
def get_indicator(indicator_id: RowId, services: ServicesDep, _: Reader) -> dict[str, Any]:
    """One indicator, with its 50 most recent sightings."""
    found = indicator_dict(services.intel.get(indicator_id))
    found["recent_sightings"] = [asdict(s) for s in services.intel.sightings(indicator_id, 50)]
    return found


@router.post("/indicators")
def add_indicator(body: IndicatorBody, services: ServicesDep, who: Manager) -> dict[str, Any]:
    """One indicator from an analyst (source ``analyst:<name>``)."""
    indicator = IndicatorIn.of(
        body.kind, body.value, f"analyst:{who.actor}", confidence=body.confidence,
        tlp=body.tlp, tags=tuple(body.tags), attack=tuple(body.attack), threat=body.threat,
        description=body.description,
        valid_until=as_utc(body.valid_until) if body.valid_until else None)
    return services.intel.add(who.actor, indicator).as_dict()


@router.post("/import")
async def import_document(
    request: Request, services: ServicesDep, who: Manager,
    source: Annotated[str, Query(min_length=1, max_length=200)],
    format: Literal["auto", "stix", "misp", "csv", "text"] = "auto",
    kind: Annotated[str | None, Query(max_length=20)] = None,
    column: Annotated[str | None, Query(max_length=200)] = None,
    delimiter: Annotated[str | None, Query(max_length=3)] = None,
    header: bool = False, tlp: Annotated[str | None, Query(max_length=20)] = None,
    confidence: Annotated[int | None, Query(ge=0, le=100)] = None,
) -> dict[str, Any]:
    """A feed document as the body: STIX 2.1, MISP event(s), CSV or a plain list. Values
    that cannot be read are problems in the answer; the others are imported."""
    if source.startswith("analyst:"):
        raise UsageError("source names starting with 'analyst:' are kept for analysts")
    body = await request.body()
    if len(body) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(f"an import is {MAX_IMPORT_BYTES} bytes at most")
    mapping = mapping_of(kind, column, delimiter, header)
    max_bytes = services.intel_feeds.fetcher.max_bytes

    def work() -> dict[str, Any]:
        result = override(parse_document(body, format, source, mapping, max_bytes=max_bytes),
                          tlp, confidence)
        return services.intel.ingest(who.actor, result, source).as_dict()

    return await run_in_threadpool(work)


@router.post("/indicators/{indicator_id}/sightings")
def sight(indicator_id: RowId, body: SightingBody, services: ServicesDep,
          who: Manager) -> dict[str, Any]:
    """Seen (restarts its decay) or a false positive (lowers its score)."""
    return indicator_dict(services.intel.sight(who.actor, indicator_id, body.kind, body.note))


@router.get("/lookup")
def lookup(services: ServicesDep, _: Reader,
           value: Annotated[str, Query(min_length=1, max_length=2048)]) -> dict[str, Any]:
    """The indicators a value would match in an event (exact, in a network, under a
    domain)."""
    return {"value": value, "items": [indicator_dict(i) for i in services.intel.lookup(value)]}


@router.get("/stats")
def stats(services: ServicesDep, _: Reader) -> dict[str, Any]:
    return services.intel.stats()


@router.get("/allowlist")
def allowlist(services: ServicesDep, _: Reader) -> list[dict[str, Any]]:
    return services.intel.allowlist()


@router.post("/allowlist", status_code=201)
def allow_value(body: AllowBody, services: ServicesDep, who: Manager) -> dict[str, Any]:
    """A value known to be benign: never matched; 409 when it is already listed."""
    try:
        return services.intel.allow(who.actor, body.kind.value, body.value, body.reason)
    except UsageError as error:
        raise ConflictError(error.message) from None


@router.delete("/allowlist/{allow_id}", status_code=204)
def disallow(allow_id: RowId, services: ServicesDep, who: Manager) -> Response:
    services.intel.disallow(who.actor, allow_id)
    return Response(status_code=204)

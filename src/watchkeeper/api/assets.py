"""``/api/v1/assets``: the asset inventory that enrichment and risk scoring read."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from watchkeeper.api.deps import RowId, ServicesDep, allow
from watchkeeper.assets.importing import import_csv, proposed_hosts
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.errors import PayloadTooLarge

router = APIRouter(prefix="/api/v1/assets", tags=["assets"])
MAX_CSV_BYTES = 32 << 20
WIDER_LIMITS = (("POST", re.compile(r"^/api/v1/assets/import$"), MAX_CSV_BYTES),)
Reader = Annotated[Principal, Depends(allow(Permission.EVENTS_READ))]
Manager = Annotated[Principal, Depends(allow(Permission.ASSETS_MANAGE))]


class Asset(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    criticality: Literal["low", "medium", "high", "critical"] = "medium"
    ip: str | None = Field(None, max_length=64)
    owner: str | None = Field(None, max_length=200)
    tags: str | None = Field(None, max_length=500)
    kind: Literal["host", "service", "application", "image"] = "host"
    team: str | None = Field(None, max_length=200)
    exposure: Literal["internet", "internal"] | None = None
    environment: str | None = Field(None, max_length=50)


@router.get("")
def list_assets(services: ServicesDep, _: Reader) -> list[dict[str, Any]]:
    return services.assets.list()


@router.get("/proposed")
def proposed_assets(services: ServicesDep, _: Reader,
                    days: Annotated[int, Query(ge=1, le=366)] = 7) -> list[dict[str, Any]]:
    """Hosts seen in the events of the last ``days`` that the inventory does not list yet,
    most events first: the inventory's missing entries."""
    return proposed_hosts(services.store, services.assets, days)


@router.put("")
def put_asset(body: Asset, services: ServicesDep, who: Manager) -> dict[str, Any]:
    """Create the asset, or update the one of that name."""
    return services.assets.put(who.actor, body.name, body.criticality, body.ip, body.owner,
                               body.tags, kind=body.kind, team=body.team,
                               exposure=body.exposure, environment=body.environment)


@router.post("/import")
async def import_assets(request: Request, services: ServicesDep,
                        who: Manager) -> dict[str, Any]:
    """A CSV body (``name`` and any of ``ip``, ``kind``, ``criticality``, ``owner``,
    ``team``, ``exposure``, ``environment``, ``tags``): each row creates or updates an
    asset; bad rows are listed with their line and reason."""
    body = await request.body()
    if len(body) > MAX_CSV_BYTES:
        raise PayloadTooLarge(f"an asset CSV is {MAX_CSV_BYTES} bytes at most")
    done = await run_in_threadpool(import_csv, services.assets, who.actor, body)
    return {"imported": done.imported, "skipped": done.skipped}


@router.delete("/{asset_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_asset(asset_id: RowId, services: ServicesDep, who: Manager) -> None:
    services.assets.delete(who.actor, asset_id)

"""``/api/v1/assets``: the asset inventory that enrichment and risk scoring read."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field

from watchkeeper.api.deps import RowId, ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission

router = APIRouter(prefix="/api/v1/assets", tags=["assets"])
Reader = Annotated[Principal, Depends(allow(Permission.EVENTS_READ))]
Manager = Annotated[Principal, Depends(allow(Permission.ASSETS_MANAGE))]


class Asset(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    criticality: Literal["low", "medium", "high", "critical"] = "medium"
    ip: str | None = Field(None, max_length=64)
    owner: str | None = Field(None, max_length=200)
    tags: str | None = Field(None, max_length=500)


@router.get("")
def list_assets(services: ServicesDep, _: Reader) -> list[dict[str, Any]]:
    return services.assets.list()


@router.put("")
def put_asset(body: Asset, services: ServicesDep, who: Manager) -> dict[str, Any]:
    """Create the asset, or update the one of that name."""
    return services.assets.put(who.actor, body.name, body.criticality, body.ip, body.owner,
                               body.tags)


@router.delete("/{asset_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_asset(asset_id: RowId, services: ServicesDep, who: Manager) -> None:
    services.assets.delete(who.actor, asset_id)

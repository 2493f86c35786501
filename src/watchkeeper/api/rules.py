"""``/api/v1/rules``: the loaded rules, switching them on and off, grouping, exceptions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field

from watchkeeper.api.deps import RowId, ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission

router = APIRouter(prefix="/api/v1/rules", tags=["rules"])
Reader = Annotated[Principal, Depends(allow(Permission.RULES_READ))]
Manager = Annotated[Principal, Depends(allow(Permission.RULES_MANAGE))]
Excepter = Annotated[Principal, Depends(allow(Permission.EXCEPTIONS_MANAGE))]


class RuleChange(BaseModel):
    enabled: bool | None = None
    group_by: list[str] | None = Field(None, max_length=10)
    window_s: int | None = Field(None, ge=1, le=30 * 86400)


class NewException(BaseModel):
    rules: list[str] | None = Field(
        None, min_length=1, description="rule ids or titles; null = every rule"
    )
    reason: str = Field(min_length=1, max_length=2000)
    match: dict[str, Any] | list[dict[str, Any]] = Field(
        description="a Sigma detection map (AND), or a list of maps (OR)"
    )


@router.get("")
def list_rules(services: ServicesDep, _: Reader) -> dict[str, Any]:
    active = services.rules.active
    return {
        "active": len(active.rules),
        "loaded": len(active.loaded),
        "loaded_at": active.loaded_at,
        "failed": [
            {"path": f.path, "rule_id": f.rule_id, "reason": f.reason} for f in active.failed
        ],
        "rules": services.rules.describe(),
    }


@router.patch("/{rule_id}")
def change_rule(
    rule_id: str, body: RuleChange, services: ServicesDep, who: Manager
) -> dict[str, Any]:
    return services.rules.set_rule(
        rule_id, who.actor, enabled=body.enabled, group_by=body.group_by, window_s=body.window_s
    )


@router.post("/reload")
def reload_rules(services: ServicesDep, _: Manager) -> dict[str, Any]:
    active = services.rules.reload()
    return {"active": len(active.rules), "failed": len(active.failed)}


@router.get("/exceptions/")
def list_exceptions(services: ServicesDep, _: Reader) -> list[dict[str, Any]]:
    return services.rules.exceptions()


@router.post("/exceptions/", status_code=status.HTTP_201_CREATED)
def add_exception(body: NewException, services: ServicesDep, who: Excepter) -> dict[str, Any]:
    return services.rules.add_exception(who.actor, body.rules, body.reason, body.match)


@router.delete("/exceptions/{exception_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_exception(exception_id: RowId, services: ServicesDep, who: Excepter) -> None:
    services.rules.delete_exception(exception_id, who.actor)

"""``/api/v1/notifications``: what was sent to the caller's role (SLA escalations, …)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from watchkeeper.api.deps import ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.notifications.service import for_role

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
Reader = Annotated[Principal, Depends(allow(Permission.CASES_READ))]


@router.get("")
def notifications(services: ServicesDep, who: Reader,
                  limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    return {"role": str(who.role),
            "notifications": for_role(services.db, str(who.role), limit)}

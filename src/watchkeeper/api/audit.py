"""``/api/v1/audit``: the audit log, and checking its hash chain."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from watchkeeper.api.deps import MAX_ID, ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
Reader = Annotated[Principal, Depends(allow(Permission.AUDIT_READ))]


@router.get("")
def entries(
    services: ServicesDep,
    _: Reader,
    object_type: str | None = None,
    object_id: str | None = None,
    actor: str | None = None,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Newest first; page with ``before_id``."""
    found = services.audit.entries(
        object_type=object_type, object_id=object_id, actor=actor, before_id=before_id,
        limit=limit,
    )
    return [dataclasses.asdict(entry) for entry in found]


@router.get("/verify")
def verify(services: ServicesDep, _: Reader, expect: str | None = None) -> dict[str, Any]:
    """Check every entry's hash and link; ``expect`` is a head hash recorded earlier."""
    return dataclasses.asdict(services.audit.verify(expect=expect))

"""``/api/v1/dead-letters``: input that was put aside, and sending it through again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from watchkeeper.api.deps import Offset, RowId, ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission

router = APIRouter(prefix="/api/v1/dead-letters", tags=["dead letters"])
Reader = Annotated[Principal, Depends(allow(Permission.DEADLETTERS_READ))]
Replayer = Annotated[Principal, Depends(allow(Permission.DEADLETTERS_REPLAY))]


class Replay(BaseModel):
    source_type: str | None = None
    """Parse it as this format this time (when it was sent with the wrong one)."""


@router.get("")
def list_letters(
    services: ServicesDep,
    _: Reader,
    pending: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    letters, total = services.dead_letters.list(limit, offset, pending_only=pending)
    return {"total": total, "dead_letters": letters}


@router.get("/{letter_id}")
def get_letter(letter_id: RowId, services: ServicesDep, _: Reader) -> dict[str, Any]:
    return services.dead_letters.get(letter_id)


@router.post("/{letter_id}/replay")
def replay(letter_id: RowId, body: Replay, services: ServicesDep, who: Replayer) -> dict[str, Any]:
    if body.source_type:
        services.decoder.check_source_type(body.source_type)
    return services.dead_letters.replay(letter_id, who.actor, services.replay, body.source_type)

"""``/api/v1/vulns``: findings kept across scans, the decisions on them, trends."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from watchkeeper.api.deps import Offset, RowId, ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.search.values import as_utc
from watchkeeper.vulns.model import Severity
from watchkeeper.vulns.store import FindingStore

router = APIRouter(prefix="/api/v1/vulns", tags=["vulnerabilities"])
Reader = Annotated[Principal, Depends(allow(Permission.VULNS_READ))]
Manager = Annotated[Principal, Depends(allow(Permission.VULNS_MANAGE))]
Key = Annotated[str, Path(pattern="^[0-9a-f]{64}$")]


class DecisionIn(BaseModel):
    kind: Literal["suppress", "accept", "vex"]
    reason: str = Field(min_length=1, max_length=5000)
    expires_at: datetime | None = None
    """Required for ``accept``: when the risk acceptance ends."""
    vex_state: Literal["not_affected", "affected", "fixed", "under_investigation"] | None = None


def findings_of(services: Any) -> FindingStore:
    return FindingStore(services.db, services.audit)


@router.get("/findings")
def list_findings(services: ServicesDep, _: Reader,
                  status: Literal["open", "fixed", "all"] = "open",
                  min_severity: Severity | None = None, include_decided: bool = False,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                  offset: Offset = 0) -> list[dict[str, Any]]:
    """Findings, highest risk first, each with its priority inputs, SSVC decision,
    deadline and the decision in force on it."""
    return findings_of(services).find(status=None if status == "all" else status,
                                      include_decided=include_decided,
                                      min_severity=min_severity, limit=limit, offset=offset)


@router.get("/trends")
def trends(services: ServicesDep, _: Reader) -> dict[str, Any]:
    return findings_of(services).trends()


@router.post("/findings/{key}/decisions", status_code=201)
def decide(key: Key, body: DecisionIn,
           services: ServicesDep, who: Manager) -> dict[str, Any]:
    """Suppress a finding, accept its risk until a date, or record a VEX statement; it
    applies whenever the finding is reported again, in any version or by any tool."""
    return findings_of(services).decide(
        who.actor, key, body.kind, body.reason,
        expires_at=as_utc(body.expires_at) if body.expires_at else None,
        vex_state=body.vex_state)


@router.post("/decisions/{decision_id}/revoke")
def revoke(decision_id: RowId, services: ServicesDep, who: Manager) -> dict[str, Any]:
    return findings_of(services).revoke(who.actor, decision_id)

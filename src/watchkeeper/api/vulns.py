"""``/api/v1/vulns``: findings kept across scans, the decisions on them, trends."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from watchkeeper.api.deps import Offset, RowId, ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.errors import PayloadTooLarge
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
    store: FindingStore = services.vulns.store
    return store


MAX_REPORT_BYTES = 256 << 20
MAX_FEED_BYTES = 64 << 20
WIDER_LIMITS = (
    ("POST", re.compile(r"^/api/v1/vulns/import$"), MAX_REPORT_BYTES),
    ("PUT", re.compile(r"^/api/v1/vulns/feeds/[a-z]+$"), MAX_FEED_BYTES),
)
"""Scanner reports and feeds are larger than other request bodies."""


@router.post("/import")
async def import_report(request: Request, services: ServicesDep, who: Manager,
                        source: Annotated[str, Query(min_length=1, max_length=500)],
                        format: Annotated[str | None, Query(max_length=50)] = None,
                        asset: Annotated[str | None, Query(max_length=255)] = None,
                        complete: bool = True) -> dict[str, Any]:
    """A scanner's report (Trivy, Grype, OSV-Scanner, pip-audit, SARIF, CycloneDX VEX,
    OpenVAS, nmap; detected when ``format`` is not given) for one ``source``: findings are
    merged across tools and kept by key, prioritized with ``asset``'s criticality and
    exposure; what is urgent on an exposed critical asset opens a case. Hosts a network
    scan finds that the inventory lacks are added when the caller may manage assets, and
    listed in ``hosts_missing`` either way."""
    body = await request.body()
    if len(body) > MAX_REPORT_BYTES:
        raise PayloadTooLarge(f"a report is {MAX_REPORT_BYTES} bytes at most")
    done = await run_in_threadpool(
        lambda: services.vulns.import_report(
            who.actor, body, source=source, format=format, asset=asset, complete=complete,
            add_hosts=who.can(Permission.ASSETS_MANAGE)))
    ingest = done.ingest
    return {"source": source, "new": ingest.new, "updated": ingest.updated,
            "reopened": ingest.reopened, "fixed": ingest.fixed,
            "skipped": [{"where": w, "reason": r} for w, r in done.skipped],
            "vex_applied": done.vex_applied, "hosts_seen": done.assets_seen,
            "hosts_missing": done.assets_missing,
            "escalated": done.escalated}


@router.put("/feeds/{name}")
async def put_feed(name: Annotated[str, Path(pattern="^(epss|kev)$")], request: Request,
                   services: ServicesDep, who: Manager) -> dict[str, Any]:
    """A new copy of FIRST's EPSS CSV (``epss``) or CISA's KEV catalog (``kev``), checked
    before it replaces the old one."""
    body = await request.body()
    if len(body) > MAX_FEED_BYTES:
        raise PayloadTooLarge(f"a feed is {MAX_FEED_BYTES} bytes at most")
    return await run_in_threadpool(services.vulns.put_feed, name, body)


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

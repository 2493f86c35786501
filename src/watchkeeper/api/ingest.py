"""``POST /api/v1/ingest``: events over HTTP, acknowledged once they are durable.

The body is raw log data in the format named by ``type`` (a route segment or the
``type`` parameter): NDJSON or a JSON array for the JSON formats, lines for syslog and
the other line formats, anything a parser reads. 202 means the body is in the spool on
disk; 429 with ``Retry-After`` means the pipeline is behind and the body was not taken.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status

from watchkeeper.api.deps import ServicesDep, allow
from watchkeeper.auth.principal import Principal, require_source
from watchkeeper.auth.roles import Permission
from watchkeeper.errors import PayloadTooLarge, UsageError

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"])
Sender = Annotated[Principal, Depends(allow(Permission.INGEST))]


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body of {declared} bytes is over the limit of {limit}")
    parts: list[bytes] = []
    size = 0
    async for part in request.stream():
        size += len(part)
        if size > limit:
            raise PayloadTooLarge(f"body is over the limit of {limit} bytes")
        parts.append(part)
    return b"".join(parts)


async def _ingest(
    source_type: str, request: Request, services: ServicesDep, who: Principal
) -> dict[str, Any]:
    require_source(who, source_type)
    services.decoder.check_source_type(source_type)
    payload = await _body(request, services.settings.http.max_body_bytes)
    if not payload.strip():
        raise UsageError("empty body: nothing to ingest")
    origin = f"http:{who.username}"
    counter = services.http_counts
    counter.received += 1
    try:
        seq = await services.spool.append_async(source_type, origin, payload)
    except Exception:
        counter.rejected += 1
        raise
    counter.accepted += 1
    counter.bytes += len(payload)
    return {"accepted": True, "seq": seq, "bytes": len(payload)}


@router.post("", status_code=status.HTTP_202_ACCEPTED)
async def ingest(
    request: Request, services: ServicesDep, who: Sender, type: str = "auto"
) -> dict[str, Any]:
    """Take a body of log data of format ``type`` (default: detected from its content)."""
    return await _ingest(type, request, services, who)


@router.post("/{source_type}", status_code=status.HTTP_202_ACCEPTED)
async def ingest_typed(
    source_type: str, request: Request, services: ServicesDep, who: Sender
) -> dict[str, Any]:
    return await _ingest(source_type, request, services, who)

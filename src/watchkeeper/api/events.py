"""``/api/v1/events``: search stored events (see ``docs/search.md``)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from watchkeeper.api.deps import Offset, ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.errors import NotFoundError
from watchkeeper.search.request import SearchRequest, TimeRange
from watchkeeper.search.service import run_histogram, run_search

router = APIRouter(prefix="/api/v1/events", tags=["events"])
Reader = Annotated[Principal, Depends(allow(Permission.EVENTS_READ))]


def event_filter(
    q: Annotated[str, Query(max_length=10_000)] = "",
    start: datetime | None = None,
    end: datetime | None = None,
) -> SearchRequest:
    """The query and time range every event route takes; times without a zone are UTC."""
    return SearchRequest(query=q, time=TimeRange(_utc(start), _utc(end)))


Filtered = Annotated[SearchRequest, Depends(event_filter)]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@router.get("")
async def search(
    services: ServicesDep,
    _: Reader,
    wanted: Filtered,
    sort: str = "@timestamp",
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Events matching query ``q`` in ``[start, end)``, one page, newest first."""
    request = dataclasses.replace(
        wanted, sort=sort, descending=order != "asc", limit=limit, offset=offset
    )
    result = await run_in_threadpool(run_search, services.store, request)
    return dataclasses.asdict(result)


@router.get("/histogram")
async def histogram(
    services: ServicesDep,
    _: Reader,
    wanted: Filtered,
    buckets: Annotated[int, Query(ge=1, le=500)] = 60,
) -> dict[str, Any]:
    """Matching events counted per time bucket (a round interval)."""
    found = await run_in_threadpool(run_histogram, services.store, wanted, buckets)
    return {"buckets": found}


@router.get("/{event_id}")
async def get_event(event_id: str, services: ServicesDep, _: Reader) -> dict[str, Any]:
    frame = await run_in_threadpool(services.store.get, [event_id])
    if frame.height == 0:
        raise NotFoundError(f"no stored event {event_id}")
    row = frame.row(0, named=True)
    return {key: value for key, value in row.items() if value is not None}

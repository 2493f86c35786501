"""``/api/v1/intel/feeds``: feeds pulled on a schedule.

Feeds hold credentials (API keys, passwords), so adding, changing and removing them
needs ``connectors:manage``, like connectors; listing and running them needs
``intel:manage``. Secrets go in and never come out: a feed shows ``has_secret``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from watchkeeper.api.deps import ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.intel.feedconfig import MAX_INTERVAL_S, MIN_INTERVAL_S
from watchkeeper.intel.feedrunner import KEEP

router = APIRouter(prefix="/api/v1/intel/feeds", tags=["intel"])
Manager = Annotated[Principal, Depends(allow(Permission.INTEL_MANAGE))]
Admin = Annotated[Principal, Depends(allow(Permission.CONNECTORS_MANAGE))]
Name = Annotated[str, Path(pattern="^[a-z0-9][a-z0-9_-]{0,99}$")]
FeedType = Literal["stix", "taxii", "misp-feed", "misp-api", "csv", "text"]
Interval = Annotated[int, Field(ge=MIN_INTERVAL_S, le=MAX_INTERVAL_S)]
Secret = Annotated[str, Field(min_length=1, max_length=10000)]


class FeedIn(BaseModel):
    name: str = Field(pattern="^[a-z0-9][a-z0-9_-]{0,99}$")
    type: FeedType
    url: str = Field(min_length=1, max_length=2000)
    options: dict[str, Any] = Field(default_factory=dict, max_length=50)
    secret: Secret | None = None
    interval_s: Interval = 3600
    enabled: bool = True


class FeedPatch(BaseModel):
    url: str | None = Field(None, min_length=1, max_length=2000)
    options: dict[str, Any] | None = Field(None, max_length=50)
    secret: Secret | None = None
    remove_secret: bool = False
    interval_s: Interval | None = None
    enabled: bool | None = None


@router.get("")
def list_feeds(services: ServicesDep, _: Manager) -> list[dict[str, Any]]:
    """Every feed with its schedule and last run (never its secret)."""
    return services.intel_feeds.list()


@router.post("", status_code=201)
def add_feed(body: FeedIn, services: ServicesDep, who: Admin) -> dict[str, Any]:
    """A new feed; its options are checked against its type (400 naming the bad one)."""
    return services.intel_feeds.add(who.actor, body.name, body.type, body.url,
                                    options=body.options, secret=body.secret,
                                    interval_s=body.interval_s, enabled=body.enabled)


@router.get("/{name}")
def get_feed(name: Name, services: ServicesDep, _: Manager) -> dict[str, Any]:
    return services.intel_feeds.get(name)


@router.patch("/{name}")
def update_feed(name: Name, body: FeedPatch, services: ServicesDep,
                who: Admin) -> dict[str, Any]:
    """Change what the body gives; a new URL or options restart the feed's cursor."""
    secret: object = None if body.remove_secret else (body.secret or KEEP)
    return services.intel_feeds.update(who.actor, name, url=body.url, options=body.options,
                                       secret=secret, interval_s=body.interval_s,
                                       enabled=body.enabled)


@router.delete("/{name}", status_code=204)
def remove_feed(name: Name, services: ServicesDep, who: Admin) -> Response:
    services.intel_feeds.remove(who.actor, name)
    return Response(status_code=204)


@router.post("/{name}/run")
async def run_feed(name: Name, services: ServicesDep, who: Manager) -> dict[str, Any]:
    """Pull the feed now; the answer is the feed after the run (``last_error`` says why a
    run failed)."""
    return await run_in_threadpool(services.intel_feeds.run, who.actor, name)

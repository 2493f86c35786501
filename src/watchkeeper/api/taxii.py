"""A read-only TAXII 2.1 server at ``/taxii2/``, and the STIX export of what is shared.

Partners authenticate as every API client does (a bearer token, or a session) and need
``intel:share``: give a partner a token scoped to it alone. Every answer, errors
included, is ``application/taxii+json;version=2.1``; errors are TAXII error messages.
Collections cannot be written: a ``POST`` answers 405.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from watchkeeper.api.deps import ServicesDep, allow, authenticate
from watchkeeper.auth.principal import Principal, require
from watchkeeper.auth.roles import Permission
from watchkeeper.errors import InputError, UsageError, WatchkeeperError
from watchkeeper.intel.feeds.common import parse_time
from watchkeeper.intel.sharedstix import (
    COLLECTIONS,
    STIX_MEDIA,
    Collection,
    Cursor,
    Filters,
    Page,
    date_added,
    find,
    page,
    shared_bundle,
    version_of,
)
from watchkeeper.intel.sharing import share_tlp

TAXII_MEDIA = "application/taxii+json;version=2.1"
PREFIX = "/taxii2"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
STATUS_TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
                 405: "Method not allowed", 406: "Not acceptable", 422: "Unprocessable",
                 429: "Too many requests", 500: "Server error"}

router = APIRouter(prefix=PREFIX, tags=["taxii"])
export_router = APIRouter(prefix="/api/v1/intel", tags=["intel"])


class TaxiiError(Exception):
    """An error answered as a TAXII error message."""

    def __init__(self, status: int, description: str, name: str = "",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.name = name
        self.headers = headers or {}


def taxii_answer(body: dict[str, Any], status: int = 200,
                 headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers, media_type=TAXII_MEDIA)


def error_answer(error: TaxiiError) -> JSONResponse:
    body: dict[str, Any] = {"title": STATUS_TITLES.get(error.status, "Error"),
                            "description": error.description,
                            "http_status": str(error.status)}
    if error.name:
        body["details"] = {"error": error.name}
    return taxii_answer(body, error.status, error.headers)


def acceptable(header: str | None) -> bool:
    """Whether an ``Accept`` header admits TAXII 2.1 JSON (no header admits anything)."""
    if header is None or not header.strip():
        return True
    for part in header.split(","):
        media, *params = (p.strip().lower() for p in part.split(";"))
        options = dict(p.partition("=")[::2] for p in params)
        if options.get("q", "1").strip() in ("0", "0.0", "0.00", "0.000"):
            continue
        if media in ("*/*", "application/*"):
            return True
        if media == "application/taxii+json" and options.get("version", "2.1") == "2.1":
            return True
    return False


async def partner(request: Request) -> Principal:
    """The caller, holding ``intel:share``, and accepting TAXII 2.1 answers."""
    if not acceptable(request.headers.get("accept")):
        raise TaxiiError(406, f"this server answers {TAXII_MEDIA} only")
    try:
        principal = await authenticate(request, Permission.INTEL_SHARE)
        require(principal, Permission.INTEL_SHARE)
    except WatchkeeperError as error:
        headers = {"WWW-Authenticate": "Bearer"} if error.http_status == 401 else {}
        raise TaxiiError(error.http_status, error.message, type(error).__name__,
                         headers) from None
    return principal


Partner = Annotated[Principal, Depends(partner)]
Sharer = Annotated[Principal, Depends(allow(Permission.INTEL_SHARE))]


def intel_of(services: Any) -> Any:
    intel = services.intel
    if intel is None:
        raise TaxiiError(404, "threat intel is turned off on this server")
    return intel


def collection_of(collection_id: str) -> Collection:
    found = COLLECTIONS.get(collection_id)
    if found is None:
        raise TaxiiError(404, f"no collection {collection_id[:80]!r}")
    return found


def _list(request: Request, name: str) -> frozenset[str] | None:
    values = [v.strip() for raw in request.query_params.getlist(name) for v in raw.split(",")]
    return frozenset(v for v in values if v) or None


def filters_of(request: Request) -> Filters:
    versions = _list(request, "match[version]")
    if versions is not None and versions & {"last", "first", "all"}:
        versions = None  # one version is kept of each object: it is first, last and all
    return Filters(_list(request, "match[type]"), _list(request, "match[id]"),
                   _list(request, "match[spec_version]"), versions)


def paging_of(request: Request) -> tuple[int, datetime | None, Cursor | None]:
    """``limit`` (capped), ``added_after`` and ``next`` of the request; 400 when invalid."""
    query = request.query_params
    try:
        text = query.get("limit")
        limit = DEFAULT_LIMIT if text is None else int(text)
        if limit < 1:
            raise ValueError("limit is 1 or more")
        added_after = parse_time(query.get("added_after"))
        cursor = Cursor.decode(query["next"]) if query.get("next") else None
    except (ValueError, UsageError, InputError) as error:
        raise TaxiiError(400, str(error)) from None
    return min(limit, MAX_LIMIT), added_after, cursor


def added_headers(found: Page) -> dict[str, str]:
    if not found.added:
        return {}
    return {"X-TAXII-Date-Added-First": date_added(min(found.added)),
            "X-TAXII-Date-Added-Last": date_added(max(found.added))}


async def collection_page(request: Request, services: Any, collection_id: str,
                          object_id: str | None = None) -> Page:
    collection = collection_of(collection_id)
    intel = intel_of(services)
    max_tlp = services.settings.intel.share_max_tlp
    filters = filters_of(request)
    if object_id is not None:
        found = await run_in_threadpool(find, intel, collection, object_id, max_tlp=max_tlp,
                                        filters=filters)
        if not found.objects:
            raise TaxiiError(404, f"no object {object_id[:120]!r} in this collection")
        return found
    limit, added_after, cursor = paging_of(request)
    return await run_in_threadpool(page, intel, collection, max_tlp=max_tlp, filters=filters,
                                   limit=limit, added_after=added_after, cursor=cursor)


def envelope(found: Page) -> JSONResponse:
    body: dict[str, Any] = {"more": found.more}
    if found.next is not None:
        body["next"] = found.next.encode()
    if found.objects:
        body["objects"] = found.objects
    return taxii_answer(body, headers=added_headers(found))


@router.get("/")
def discovery(request: Request, services: ServicesDep, _: Partner) -> Response:
    """The TAXII discovery resource: one API root, the default."""
    root = str(request.base_url).rstrip("/") + f"{PREFIX}/api/"
    return taxii_answer({"title": "Watchkeeper TAXII",
                         "description": "Threat intelligence this SOC shares.",
                         "default": root, "api_roots": [root]})


@router.get("/api/")
def api_root(services: ServicesDep, _: Partner) -> Response:
    return taxii_answer({"title": "Watchkeeper", "versions": [TAXII_MEDIA],
                         "max_content_length": services.settings.http.max_body_bytes})


@router.get("/api/collections/")
def collections(_: Partner) -> Response:
    return taxii_answer({"collections": [c.resource() for c in COLLECTIONS.values()]})


@router.get("/api/collections/{collection_id}/")
def collection(collection_id: str, _: Partner) -> Response:
    return taxii_answer(collection_of(collection_id).resource())


@router.get("/api/collections/{collection_id}/objects/")
async def objects(collection_id: str, request: Request, services: ServicesDep,
                  _: Partner) -> Response:
    """An envelope of objects: ``added_after``, ``limit``, ``next``, ``match[type]``,
    ``match[id]``, ``match[spec_version]``, ``match[version]``."""
    return envelope(await collection_page(request, services, collection_id))


@router.get("/api/collections/{collection_id}/objects/{object_id}/")
async def one_object(collection_id: str, object_id: str, request: Request,
                     services: ServicesDep, _: Partner) -> Response:
    return envelope(await collection_page(request, services, collection_id, object_id))


@router.get("/api/collections/{collection_id}/manifest/")
async def manifest(collection_id: str, request: Request, services: ServicesDep,
                   _: Partner) -> Response:
    """What ``objects`` would answer, as manifest records."""
    found = await collection_page(request, services, collection_id)
    body: dict[str, Any] = {"more": found.more}
    if found.next is not None:
        body["next"] = found.next.encode()
    if found.objects:
        body["objects"] = [{"id": obj["id"], "date_added": date_added(added),
                            "version": version_of(obj), "media_type": STIX_MEDIA}
                           for obj, added in zip(found.objects, found.added, strict=True)]
    return taxii_answer(body, headers=added_headers(found))


@router.get("/api/collections/{collection_id}/objects/{object_id}/versions/")
async def versions(collection_id: str, object_id: str, request: Request,
                   services: ServicesDep, _: Partner) -> Response:
    found = await collection_page(request, services, collection_id, object_id)
    return taxii_answer({"more": False, "versions": [version_of(o) for o in found.objects]},
                        headers=added_headers(found))


@export_router.get("/export")
async def export(services: ServicesDep, _: Sharer,
                 max_tlp: Annotated[str | None, Query(max_length=20)] = None,
                 since: datetime | None = None) -> Response:
    """A STIX 2.1 bundle of the shareable indicators changed after ``since``, with their
    sightings; ``max_tlp`` may narrow the server's limit, never widen it."""
    limit = share_tlp(services.settings.intel.share_max_tlp, max_tlp)
    intel = services.intel
    if intel is None:
        raise UsageError("threat intel is turned off on this server")
    if since is not None and since.tzinfo is None:
        raise UsageError("since needs a time zone (2024-05-01T00:00:00Z)")
    bundle = await run_in_threadpool(shared_bundle, intel, max_tlp=limit, since=since)
    return JSONResponse(bundle, media_type=STIX_MEDIA, headers={
        "Content-Disposition": 'attachment; filename="watchkeeper-intel.stix.json"'})


def install(app: FastAPI) -> None:
    """Add the TAXII routes, the export, and the handlers that answer TAXII errors."""
    app.include_router(router)
    app.include_router(export_router)

    async def taxii_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, TaxiiError)
        return error_answer(error)

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if not request.url.path.startswith(PREFIX + "/"):
            return await http_exception_handler(request, error)
        headers = dict(error.headers or {})
        if error.status_code == 405:
            description = "collections here are read-only"
        else:
            description = str(error.detail)
        return error_answer(TaxiiError(error.status_code, description, headers=headers))

    app.add_exception_handler(TaxiiError, taxii_error)
    app.add_exception_handler(HTTPException, http_error)

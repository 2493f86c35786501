"""What every route depends on: the services, and who is asking with what right.

A caller proves who they are with a bearer token (``Authorization: Bearer wk_…``) or
the web UI's session cookie. Cookie-authenticated requests that change something must
also carry the session's CSRF token (``X-CSRF-Token`` header, or the ``csrf_token``
form field for the UI's forms), so that another site cannot make a signed-in
browser act.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from watchkeeper.auth.principal import Principal, require
from watchkeeper.auth.roles import INGEST_PERMISSIONS, Permission, permissions_for
from watchkeeper.auth.sessions import (
    WebSession,
    check_csrf,
    clear_session_cookie,
    cookie_name,
    session_cookie,
)
from watchkeeper.errors import AuthenticationError, PermissionDenied

if TYPE_CHECKING:
    from watchkeeper.auth.model import User
    from watchkeeper.server.services import Services

MAX_ID = 2**63 - 1
"""Ids and offsets beyond a 64-bit integer are refused before any database sees them."""
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated["Services", Depends(get_services)]


def same_origin(request: Request) -> None:
    """Refuse a request that a browser says comes from another site (login CSRF: another
    site signing a browser into the attacker's account). Clients that send no ``Origin``
    (curl, scripts) are not browsers acting for someone else and pass."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin != own:
        raise PermissionDenied("cross-site request refused")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def session_of(request: Request, services: Services) -> tuple[Principal, WebSession] | None:
    """The signed-in user of the request's session cookie, or None without a cookie."""
    value = request.cookies.get(cookie_name(services.settings.cookies_secure))
    if not value:
        return None
    return services.auth.resume_session(value)


async def authenticate(request: Request, permission: Permission | None = None) -> Principal:
    """The caller; with ``permission``, refused (403) before a form body is read for the
    CSRF token, so that a caller without the right uploads nothing."""
    services = get_services(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("Authorization must be 'Bearer <token>'")
        # the state database may wait on the pipeline's write: never on the event loop
        return await run_in_threadpool(services.auth.verify_token, token.strip())
    found = await run_in_threadpool(session_of, request, services)
    if found is None:
        raise AuthenticationError("sign in, or send a bearer token")
    principal, session = found
    if permission is not None:
        require(principal, permission)
    if request.method not in SAFE_METHODS:
        submitted = request.headers.get(CSRF_HEADER)
        if submitted is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form = await request.form()
            field = form.get(CSRF_FIELD)
            submitted = field if isinstance(field, str) else None
        check_csrf(session, submitted)
    return principal


def allow(permission: Permission) -> Callable[..., object]:
    """A dependency: the authenticated principal, if it holds ``permission`` (else 403)."""

    async def dependency(request: Request) -> Principal:
        principal = await authenticate(request, permission)
        require(principal, permission)
        return principal

    dependency.__name__ = f"allow_{permission.value.replace(':', '_')}"
    return dependency


async def signed_in(request: Request) -> Principal:
    """A person's session or API token: an ingest token may send events and nothing else,
    not even list or revoke its owner's tokens."""
    principal = await authenticate(request)
    if principal.permissions <= INGEST_PERMISSIONS:
        raise PermissionDenied("an ingest token may only send events; this needs a user's token")
    return principal


Authenticated = Annotated[Principal, Depends(signed_in)]


async def whole_user(request: Request) -> Principal:
    """A person's session or an API token with all of its owner's rights: a token narrowed
    to some permissions (a dashboard's ``alerts:read``) may not manage tokens or passwords."""
    principal = await signed_in(request)
    if principal.via == "token" and principal.permissions != permissions_for(principal.role):
        raise PermissionDenied("a token narrowed to some permissions cannot manage tokens")
    return principal


WholeUser = Annotated[Principal, Depends(whole_user)]


def start_session(services: Services, user: User, response: Response) -> WebSession:
    """Sign ``user`` in: a new session, its cookie set on ``response``."""
    value, session = services.auth.start_session(user)
    lifetime = int((session.expires_at - session.created_at).total_seconds())
    secure = services.settings.cookies_secure
    response.set_cookie(**session_cookie(value, secure=secure, max_age=lifetime))
    return session


def end_session(request: Request, services: Services, response: Response) -> None:
    """Sign out: the request's session ended on the server, its cookie cleared."""
    secure = services.settings.cookies_secure
    value = request.cookies.get(cookie_name(secure))
    if value:
        services.auth.end_session(value)
    response.delete_cookie(**clear_session_cookie(secure=secure))

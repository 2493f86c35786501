"""Administration pages: users (``users:manage``) and tokens (``tokens:manage``).

They call the same service methods as ``/api/v1/users`` and ``/api/v1/tokens``, which
check the permission again and write the audit log. A new password or token is shown
once, in the answer to the form that made it, and never stored in the clear."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from watchkeeper.api.deps import MAX_ID, RowId, ServicesDep, allow
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission, Role
from watchkeeper.errors import ConflictError, NotFoundError, UsageError
from watchkeeper.web.pages import _page

if TYPE_CHECKING:
    from watchkeeper.server.services import Services

router = APIRouter(include_in_schema=False)
UserAdmin = Annotated[Principal, Depends(allow(Permission.USERS_MANAGE))]
TokenAdmin = Annotated[Principal, Depends(allow(Permission.TOKENS_MANAGE))]
ROLES = [role.value for role in Role]


def one_time_password() -> str:
    """20 URL-safe characters (120 random bits): above the password policy's minimum."""
    return secrets.token_urlsafe(15)


def _users_page(request: Request, services: Services, who: Principal, status: int = 200,
                **context: Any) -> HTMLResponse:
    page = _page(request, "admin_users.html", who, users=services.auth.list_users(),
                 roles=ROLES, **context)
    page.status_code = status
    return page


@router.get("/admin/users")
def users_page(request: Request, services: ServicesDep, who: UserAdmin) -> HTMLResponse:
    return _users_page(request, services, who)


@router.post("/admin/users")
def create_user(
    request: Request, services: ServicesDep, who: UserAdmin,
    username: Annotated[str, Form(max_length=200)], role: Annotated[str, Form(max_length=20)],
    display_name: Annotated[str | None, Form(max_length=200)] = None,
) -> HTMLResponse:
    """The page again, with the new user's one-time password shown this once."""
    password = one_time_password()
    try:
        user = services.auth.create_user(who, username, role, password,
                                         display_name=display_name or None)
    except (UsageError, ConflictError) as error:
        return _users_page(request, services, who, error.http_status,
                           error=f"user not created: {error.message}",
                           typed={"username": username, "role": role,
                                  "display_name": display_name or ""})
    page = _users_page(request, services, who, 201, created=user, password=password)
    page.headers["Cache-Control"] = "no-store"
    return page


@router.post("/admin/users/{user_id}/role")
def change_role(user_id: RowId, services: ServicesDep, who: UserAdmin,
                role: Annotated[str, Form(max_length=20)]) -> Response:
    services.auth.set_role(who, user_id, role)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/active")
def set_active(user_id: RowId, services: ServicesDep, who: UserAdmin,
               active: Annotated[str, Form(max_length=5)]) -> Response:
    """``active=yes`` reactivates the user, ``active=no`` deactivates them."""
    if active not in ("yes", "no"):
        raise UsageError("active must be 'yes' or 'no'")
    if active == "yes":
        services.auth.reactivate(who, user_id)
    else:
        services.auth.deactivate(who, user_id)
    return RedirectResponse("/admin/users", status_code=303)


def _tokens_page(request: Request, services: Services, who: Principal, status: int = 200,
                 **context: Any) -> HTMLResponse:
    users = services.auth.list_users()
    page = _page(request, "admin_tokens.html", who, tokens=services.auth.tokens.list(who, None),
                 owners={user.id: user.username for user in users},
                 active_users=[user for user in users if user.active], **context)
    page.status_code = status
    return page


@router.get("/admin/tokens")
def tokens_page(request: Request, services: ServicesDep, who: TokenAdmin) -> HTMLResponse:
    return _tokens_page(request, services, who)


@router.post("/admin/tokens")
def issue_ingest_token(
    request: Request, services: ServicesDep, who: TokenAdmin,
    name: Annotated[str, Form(max_length=100)], owner_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    source_type: Annotated[str | None, Form(max_length=64)] = None,
) -> HTMLResponse:
    """An ingest token, its value shown in this answer and nowhere else, ever."""
    try:
        if source_type:
            services.decoder.check_source_type(source_type)
        token, plaintext = services.auth.issue_token(
            who, owner_id, "ingest", name, source_type=source_type or None)
    except (UsageError, NotFoundError, ConflictError) as error:
        return _tokens_page(request, services, who, error.http_status,
                            error=f"token not issued: {error.message}",
                            typed={"name": name, "owner_id": owner_id,
                                   "source_type": source_type or ""})
    page = _tokens_page(request, services, who, 201, issued=token, secret=plaintext)
    page.headers["Cache-Control"] = "no-store"
    return page


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token(token_id: str, services: ServicesDep, who: TokenAdmin) -> Response:
    services.auth.revoke_token(who, token_id)
    return RedirectResponse("/admin/tokens", status_code=303)

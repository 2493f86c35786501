"""Signing in and out, users and tokens: ``/api/v1/auth``, ``/api/v1/users``, ``/api/v1/tokens``."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, Field

from watchkeeper.api.deps import (
    MAX_ID,
    Authenticated,
    RowId,
    ServicesDep,
    WholeUser,
    allow,
    client_ip,
    end_session,
    same_origin,
    start_session,
)
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Permission
from watchkeeper.errors import UsageError
from watchkeeper.search.values import as_utc

router = APIRouter(tags=["users and tokens"])
UserAdmin = Annotated[Principal, Depends(allow(Permission.USERS_MANAGE))]


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class NewUser(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    role: str
    password: str | None = Field(None, min_length=1, max_length=1000)
    display_name: str | None = Field(None, max_length=200)


class UserChange(BaseModel):
    role: str | None = None
    active: bool | None = None


class NewPassword(BaseModel):
    password: str = Field(min_length=1, max_length=1000)
    current_password: str | None = Field(None, max_length=1000)
    """Needed to change one's own password."""


class NewToken(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    kind: str = "api"
    owner_id: int | None = None
    scopes: list[str] | None = None
    source_type: str | None = None
    expires_at: datetime | None = None
    """Without a zone, taken as UTC."""


def _plain(item: Any) -> dict[str, Any]:
    return dataclasses.asdict(item)


@router.post("/api/v1/auth/login")
def login(body: Credentials, request: Request, response: Response,
          services: ServicesDep) -> dict[str, Any]:
    """Start a UI session: sets the session cookie, returns the CSRF token to send back."""
    same_origin(request)
    user = services.auth.authenticate(body.username, body.password, client_ip(request))
    session = start_session(services, user, response)
    return {"user": _plain(user), "csrf_token": session.csrf_token}


@router.post("/api/v1/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, response: Response, services: ServicesDep,
           _: Authenticated) -> None:
    end_session(request, services, response)


@router.get("/api/v1/auth/me")
def me(who: Authenticated) -> dict[str, Any]:
    return {
        "username": who.username,
        "role": who.role.value,
        "via": who.via,
        "permissions": sorted(p.value for p in who.permissions),
    }


@router.get("/api/v1/users")
def list_users(services: ServicesDep, _: UserAdmin) -> list[dict[str, Any]]:
    return [_plain(user) for user in services.auth.list_users()]


@router.post("/api/v1/users", status_code=status.HTTP_201_CREATED)
def create_user(body: NewUser, services: ServicesDep, who: UserAdmin) -> dict[str, Any]:
    user = services.auth.create_user(
        who, body.username, body.role, body.password, display_name=body.display_name
    )
    return _plain(user)


@router.patch("/api/v1/users/{user_id}")
def change_user(user_id: RowId, body: UserChange, services: ServicesDep,
                who: UserAdmin) -> dict[str, Any]:
    user = services.auth.get_user(user_id)
    if body.role is not None:
        user = services.auth.set_role(who, user_id, body.role)
    if body.active is False:
        user = services.auth.deactivate(who, user_id)
    elif body.active is True:
        user = services.auth.reactivate(who, user_id)
    return _plain(user)


@router.post("/api/v1/users/{user_id}/password", status_code=status.HTTP_204_NO_CONTENT)
def set_password(user_id: RowId, body: NewPassword, services: ServicesDep,
                 who: WholeUser) -> None:
    """Your own password, or anyone's with ``users:manage``."""
    services.auth.set_password(
        who, user_id, body.password, current_password=body.current_password
    )


@router.get("/api/v1/tokens")
def list_tokens(services: ServicesDep, who: WholeUser,
                owner_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                ) -> list[dict[str, Any]]:
    owner = owner_id if owner_id is not None else who.user_id
    return [_plain(token) for token in services.auth.tokens.list(who, owner)]


@router.post("/api/v1/tokens", status_code=status.HTTP_201_CREATED)
def issue_token(body: NewToken, services: ServicesDep, who: WholeUser) -> dict[str, Any]:
    """Create a token; its value is in this answer and nowhere else, ever."""
    owner = body.owner_id if body.owner_id is not None else who.user_id
    if owner is None:
        raise UsageError("owner_id is needed when the caller is not a user")
    if body.source_type is not None:
        services.decoder.check_source_type(body.source_type)
    token, plaintext = services.auth.issue_token(
        who, owner, body.kind, body.name, scopes=body.scopes, source_type=body.source_type,
        expires_at=None if body.expires_at is None else as_utc(body.expires_at),
    )
    return {**_plain(token), "token": plaintext}


@router.delete("/api/v1/tokens/{token_id}")
def revoke_token(token_id: str, services: ServicesDep, who: WholeUser) -> dict[str, Any]:
    return _plain(services.auth.revoke_token(who, token_id))

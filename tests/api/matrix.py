"""Sending the table's calls: as a role's bearer token, a signed-in browser, or nobody."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.routetable import PUBLIC, SIGNED_IN, TABLE, Need, World
from watchkeeper.auth.roles import permissions_for

ROLES = ("admin", "analyst", "responder", "viewer")
GUARDED = [key for key, entry in TABLE.items() if entry.need != PUBLIC]
"""Every route that needs credentials, in the table's order (logout last)."""

ALLOWED_OUTCOMES = {200, 201, 202, 204, 303, 409}
"""Answers of a call that passed the permission check (409: an earlier role's call
already moved the object on, e.g. acknowledged the alert)."""


def holds(role: str, need: Need) -> bool:
    return need == SIGNED_IN or need in permissions_for(role)


def send(
    client: TestClient, method: str, template: str, path: str, *,
    headers: dict[str, str] | None = None, csrf: str | None = None,
) -> Any:
    """The table's call of route ``(method, template)`` on the concrete ``path``."""
    entry = TABLE[(method, template)]
    form = None if entry.form is None else dict(entry.form)
    if csrf is not None:
        form = {**(form or {}), "csrf_token": csrf}
    return client.request(
        method, path, json=entry.json, data=form, content=entry.body, params=entry.query,
        files=entry.files, headers=headers or {}, follow_redirects=False,
    )


def last_audit_id(world: World) -> int:
    """The newest audit entry's id: a call that changed something has moved it."""
    newest = world.api.services.audit.entries(limit=1)
    return newest[0].id if newest else 0


def error_name(body: dict[str, Any]) -> str:
    """The error's class name, from a JSON error or a TAXII error message's details."""
    return str(body.get("error") or body.get("details", {}).get("error"))

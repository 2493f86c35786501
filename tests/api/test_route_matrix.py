"""Each route checks its permission for every role, and every credential is held to what
it is for: ingest tokens ingest, nothing else does, and nobody gets in without one."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from tests.api.conftest import Browser, sign_in
from tests.api.matrix import (
    ALLOWED_OUTCOMES,
    GUARDED,
    ROLES,
    error_name,
    holds,
    last_audit_id,
    send,
)
from tests.api.routetable import TABLE, World, app_routes, is_web_form
from tests.serverfixtures import Api
from watchkeeper.auth.principal import SYSTEM
from watchkeeper.auth.roles import Permission


@pytest.fixture(scope="module")
def world(server: Api) -> World:
    return World.build(server)


@pytest.fixture(scope="module")
def browsers(server: Api) -> Iterator[dict[str, Browser]]:
    signed_in = {role: sign_in(server, role) for role in ROLES}
    yield signed_in
    for browser in signed_in.values():
        browser.client.close()


def test_the_table_names_every_route_of_the_app_and_no_other(server: Api) -> None:
    app = server.client.app
    assert isinstance(app, FastAPI)
    routes = set(app_routes(app))
    assert len(routes) > 40
    assert sorted(routes - TABLE.keys()) == [], "routes missing from the table"
    assert sorted(TABLE.keys() - routes) == [], "table entries for routes that do not exist"


@pytest.mark.parametrize(
    ("method", "template", "role"),
    [(method, template, role) for method, template in GUARDED for role in ROLES],
    ids=lambda value: str(value),
)
def test_a_role_may_do_exactly_what_its_permissions_allow(
    world: World, browsers: dict[str, Browser], method: str, template: str, role: str
) -> None:
    need = TABLE[(method, template)].need
    path = world.path(template, role)
    before = last_audit_id(world)
    if is_web_form(method, template):
        browser = browsers[role]
        answer = send(browser.client, method, template, path, csrf=browser.csrf)
    else:
        answer = send(world.api.client, method, template, path, headers=world.api.bearer(role))
    if holds(role, need):
        assert answer.status_code in ALLOWED_OUTCOMES, answer.text
        return
    assert answer.status_code == 403, answer.text
    if is_web_form(method, template):
        # a person gets the refusal as a page, with the same message
        assert answer.headers["content-type"].startswith("text/html")
        assert f"'{need}'" in html.unescape(answer.text)
    else:
        body = answer.json()
        assert error_name(body) == "PermissionDenied"
        assert f"'{need}'" in body.get("message", body.get("description"))
    assert last_audit_id(world) == before, "a refused call changed something"


@pytest.mark.parametrize(("method", "template"), GUARDED, ids=str)
def test_without_credentials_every_guarded_route_is_closed(
    world: World, method: str, template: str
) -> None:
    path = world.path(template, "viewer")
    before = last_audit_id(world)
    answer = send(world.api.client, method, template, path)
    if template.startswith(("/api/", "/taxii2/")) or template == "/metrics":
        assert answer.status_code == 401, answer.text
        assert answer.headers["www-authenticate"] == "Bearer"
        assert error_name(answer.json()) == "AuthenticationError"
    else:  # a page: the browser is sent to sign in, and comes back afterwards
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"].startswith("/login?next=/")
    assert last_audit_id(world) == before


def test_public_routes_need_no_credentials(world: World) -> None:
    client = world.api.client
    assert client.get("/healthz").status_code == 200
    assert client.get("/login").status_code == 200
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/", follow_redirects=False).headers["location"] == "/alerts"
    assert client.get("/static/queue.js").status_code == 200
    refused = client.post("/api/v1/auth/login", json={"username": "admin", "password": "no"})
    assert refused.status_code == 401


@pytest.mark.parametrize(("method", "template"), GUARDED, ids=str)
def test_an_ingest_token_may_ingest_and_do_nothing_else(
    world: World, method: str, template: str
) -> None:
    path = world.path(template, "admin")  # the ingest token's owner
    before = last_audit_id(world)
    headers = {"Authorization": f"Bearer {world.api.ingest_token}"}
    answer = send(world.api.client, method, template, path, headers=headers)
    if TABLE[(method, template)].need is Permission.INGEST:
        assert answer.status_code == 202, answer.text
        return
    assert answer.status_code == 403, answer.text
    assert error_name(answer.json()) == "PermissionDenied"
    assert last_audit_id(world) == before


def test_an_ingest_token_bound_to_a_source_type_sends_only_that_type(world: World) -> None:
    auth = world.api.services.auth
    owner = world.api.user_ids["admin"]
    token = auth.issue_token(SYSTEM, owner, "ingest", "shipper", source_type="winlog-json")[1]
    headers = {"Authorization": f"Bearer {token}"}
    line = TABLE[("POST", "/api/v1/ingest")].body
    client = world.api.client
    for path, params in (("/api/v1/ingest/syslog", {}), ("/api/v1/ingest", {"type": "syslog"}),
                         ("/api/v1/ingest", {})):
        answer = client.post(path, params=params, content=line, headers=headers)
        assert answer.status_code == 403, (path, params, answer.text)
        assert "'winlog-json'" in answer.json()["message"]
    taken = client.post("/api/v1/ingest/winlog-json", content=line, headers=headers)
    assert taken.status_code == 202, taken.text


def test_a_token_narrowed_to_some_permissions_is_refused_the_others(world: World) -> None:
    auth = world.api.services.auth
    owner = world.api.user_ids["admin"]
    token = auth.issue_token(SYSTEM, owner, "api", "dashboard", scopes=["alerts:read"])[1]
    headers = {"Authorization": f"Bearer {token}"}
    client = world.api.client
    assert client.get("/api/v1/alerts", headers=headers).status_code == 200
    refused = client.get("/api/v1/users", headers=headers)
    assert refused.status_code == 403
    assert "'users:manage'" in refused.json()["message"]

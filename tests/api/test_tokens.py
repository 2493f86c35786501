"""API tokens: refused on the very next request once revoked, never shown again after
creation, and no way for one user to reach another's."""

from __future__ import annotations

import pytest

from tests.serverfixtures import Api
from watchkeeper.auth.principal import SYSTEM
from watchkeeper.auth.tokens import parse_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def issue(api: Api, role: str, **body: object) -> tuple[str, str]:
    """A new token of ``role``'s user, made through the API: (id, value)."""
    answer = api.client.post("/api/v1/tokens", json={"name": "issued", **body},
                             headers=api.bearer(role))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"]), str(answer.json()["token"])


def test_a_revoked_token_is_refused_on_the_next_request(shared_server: Api) -> None:
    api = shared_server
    token_id, token = issue(api, "analyst")
    assert api.client.get("/api/v1/alerts", headers=bearer(token)).status_code == 200
    revoked = api.client.delete(f"/api/v1/tokens/{token_id}", headers=api.bearer("analyst"))
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    answer = api.client.get("/api/v1/alerts", headers=bearer(token))
    assert answer.status_code == 401
    assert answer.json()["error"] == "AuthenticationError"
    again = api.client.delete(f"/api/v1/tokens/{token_id}", headers=api.bearer("analyst"))
    assert again.status_code == 409


def test_a_token_may_revoke_itself_and_is_refused_at_once(shared_server: Api) -> None:
    api = shared_server
    token_id, token = issue(api, "viewer")
    assert api.client.delete(f"/api/v1/tokens/{token_id}", headers=bearer(token)).status_code \
        == 200
    assert api.client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401


def test_a_viewer_cannot_revoke_or_list_another_users_tokens(shared_server: Api) -> None:
    api = shared_server
    token_id, token = issue(api, "analyst")
    answer = api.client.delete(f"/api/v1/tokens/{token_id}", headers=api.bearer("viewer"))
    assert answer.status_code in (403, 404), answer.text
    assert api.client.get("/api/v1/alerts", headers=bearer(token)).status_code == 200
    listed = api.client.get("/api/v1/tokens", params={"owner_id": api.user_ids["analyst"]},
                            headers=api.bearer("viewer"))
    assert listed.status_code == 403
    assert "'tokens:manage'" in listed.json()["message"]


def test_a_user_cannot_make_a_token_beyond_their_own_rights(shared_server: Api) -> None:
    api = shared_server
    headers = api.bearer("viewer")
    for body in ({"name": "x", "kind": "ingest"},
                 {"name": "x", "owner_id": api.user_ids["admin"]},
                 {"name": "x", "scopes": ["users:manage"]}):
        answer = api.client.post("/api/v1/tokens", json=body, headers=headers)
        assert answer.status_code in (400, 403), (body, answer.text)
    # a narrowed token cannot mint a token with its owner's full rights
    _, narrow = issue(api, "analyst", scopes=["alerts:read"])
    wider = api.client.post("/api/v1/tokens", json={"name": "wider"}, headers=bearer(narrow))
    assert wider.status_code == 403, wider.text


def test_token_values_never_appear_in_lists_or_the_audit_log(shared_server: Api) -> None:
    api = shared_server
    made = [issue(api, role)[1] for role in ("admin", "viewer")]
    secrets = [*made, *api.tokens.values(), api.ingest_token]
    secret_parts = [parse_token(value)[1] for value in secrets]
    answers = [
        api.client.get("/api/v1/tokens", headers=api.bearer(role)) for role in api.tokens
    ] + [
        api.client.get("/api/v1/tokens", params={"owner_id": user_id},
                       headers=api.bearer("admin"))
        for user_id in api.user_ids.values()
    ] + [api.client.get("/api/v1/audit", params={"limit": 1000}, headers=api.bearer("admin"))]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        for part in secret_parts:
            assert part not in answer.text
        assert "hash" not in answer.text.replace("prev_hash", "").replace('"hash"', "")
    listed = answers[0].json()
    assert listed
    assert all("token" not in item for item in listed)


@pytest.mark.parametrize("header", [
    "Bearer", "Bearer ", "Basic YWRtaW46cGFzc3dvcmQ=", "Bearer wk_nothing", "Token {token}",
    "Bearer {wrong_secret}", "Bearer {unknown_id}",
])
def test_a_malformed_or_wrong_authorization_header_is_refused(
    shared_server: Api, header: str
) -> None:
    token = shared_server.tokens["admin"]
    prefix, token_id, secret = token.split("_", 2)
    value = header.format(
        token=token,
        wrong_secret=f"{prefix}_{token_id}_{secret[::-1]}",
        unknown_id=f"{prefix}_{'0' * 12}_{secret}",
    )
    answer = shared_server.client.get("/api/v1/auth/me", headers={"Authorization": value})
    assert answer.status_code == 401, answer.text
    assert token not in answer.text


def test_deactivating_or_demoting_the_owner_takes_effect_on_the_next_request(
    shared_server: Api,
) -> None:
    api = shared_server
    auth = api.services.auth
    user = auth.create_user(SYSTEM, "shift-lead", "analyst", None)
    token = auth.issue_token(SYSTEM, user.id, "api", "lead")[1]
    assert api.client.get("/api/v1/audit", headers=bearer(token)).status_code == 200
    demoted = api.client.patch(f"/api/v1/users/{user.id}", json={"role": "viewer"},
                               headers=api.bearer("admin"))
    assert demoted.status_code == 200, demoted.text
    assert api.client.get("/api/v1/audit", headers=bearer(token)).status_code == 403
    off = api.client.patch(f"/api/v1/users/{user.id}", json={"active": False},
                           headers=api.bearer("admin"))
    assert off.status_code == 200, off.text
    assert api.client.get("/api/v1/alerts", headers=bearer(token)).status_code == 401


def test_a_narrowed_token_cannot_manage_tokens_or_passwords(shared_server: Api) -> None:
    """A dashboard's read-only token, if stolen, must not mint or revoke tokens."""
    _, narrow = issue(shared_server, "analyst", name="dashboard", scopes=["alerts:read"])
    client = shared_server.client
    assert client.get("/api/v1/alerts", headers=bearer(narrow)).status_code == 200
    for method, path, body in [
        ("GET", "/api/v1/tokens", None),
        ("POST", "/api/v1/tokens", {"name": "more"}),
        ("DELETE", f"/api/v1/tokens/{parse_token(shared_server.tokens['analyst'])[0]}", None),
        ("POST", f"/api/v1/users/{shared_server.user_ids['analyst']}/password",
         {"password": "a brand new passphrase", "current_password": "x"}),
    ]:
        answer = client.request(method, path, json=body, headers=bearer(narrow))
        assert answer.status_code == 403, (method, path, answer.text)
        assert "narrowed" in answer.json()["message"]


def test_an_admin_changing_their_own_password_gives_the_current_one(shared_server: Api) -> None:
    admin = shared_server.user_ids["admin"]
    path = f"/api/v1/users/{admin}/password"
    refused = shared_server.client.post(path, json={"password": "another long passphrase"},
                                        headers=shared_server.bearer("admin"))
    assert refused.status_code == 401, refused.text

"""Actions through an ``http`` connector against a real API server on 127.0.0.1."""

from __future__ import annotations

import base64
import logging

import pytest
from pydantic import ValidationError

from tests.response.conftest import ApiServer, FakeContext, Reply, http_connector
from watchkeeper.errors import UsageError
from watchkeeper.response.actions import default_actions
from watchkeeper.response.actions.base import ActionFailed
from watchkeeper.response.adapters.httpapi import fill, fill_body

OPS = {
    "block_ip": {"method": "POST", "path": "/rules",
                 "body": {"source": "{ip}", "dir": "{direction}", "note": "wk {comment}",
                          "key": "{key}"},
                 "outputs": {"reference": "rule.id"}},
    "unblock_ip": {"method": "DELETE", "path": "/rules/{reference}"},
    "quarantine_host": {"method": "POST", "path": "/hosts/{host}/isolate",
                        "body": {"reason": "{reason}"}},
    "create_ticket": {"method": "POST", "path": "/tickets",
                      "body": {"fields": {"summary": "{title}", "priority": "{severity}"}},
                      "outputs": {"ticket_id": "result.number"}},
    "get": {"method": "GET", "path": "/whois/{domain}", "query": {"full": "{full}"}},
}
registry = default_actions(entry_points=False)


def ctx_for(api: ApiServer, **config: object) -> FakeContext:
    return FakeContext(http_connector(api.url, OPS, **config))  # type: ignore[arg-type]


def test_block_ip_sends_the_exact_request(api: ApiServer) -> None:
    api.routes[("POST", "/rules")] = Reply(201, {"rule": {"id": "r-991"}})
    action = registry.get("firewall.block_ip")
    inputs = action.Inputs.model_validate({"ip": "203.0.113.7", "direction": "both",
                                           "comment": "C2 \"beacon\""})
    ctx = ctx_for(api)
    out = action.run(ctx, inputs)
    (seen,) = api.requests
    assert (seen.method, seen.path) == ("POST", "/rules")
    assert seen.json() == {"source": "203.0.113.7", "dir": "both", "note": 'wk C2 "beacon"',
                           "key": "run-7.step-block"}
    assert seen.headers["idempotency-key"] == "run-7.step-block"
    assert out.target == "203.0.113.7"
    assert out.reference == "r-991"
    undo = action.undo_inputs(inputs, out)
    assert undo["reference"] == "r-991"
    unblock = registry.get("firewall.unblock_ip")
    unblock.run(ctx, unblock.Inputs.model_validate(undo))
    assert (api.requests[1].method, api.requests[1].path) == ("DELETE", "/rules/r-991")


def test_plan_reports_the_request_and_sends_nothing(api: ApiServer) -> None:
    action = registry.get("firewall.block_ip")
    plan = action.plan(ctx_for(api), action.Inputs.model_validate({"ip": "198.51.100.0/24"}))
    assert plan.targets == ["198.51.100.0/24"]
    assert plan.summary.startswith(f"fw-api: POST {api.url}/rules ")
    assert '"source": "198.51.100.0/24"' in plan.summary
    assert plan.outputs["target"] == "198.51.100.0/24"
    assert api.requests == []


@pytest.mark.parametrize("bad", ["10.0.0.300", "not-an-ip", "203.0.113.7/24", "0.0.0.0/0",
                                 "1.2.3.4; rm -rf /", "::/0", ""])
def test_bad_addresses_are_refused_by_input_validation(bad: str) -> None:
    with pytest.raises(ValidationError):
        registry.get("firewall.block_ip").Inputs.model_validate({"ip": bad})


def test_placeholders_are_encoded_in_paths_and_kept_as_json_in_bodies(api: ApiServer) -> None:
    action = registry.get("edr.quarantine_host")
    inputs = action.Inputs.model_validate({"host": "ws 1/../admin?x=1", "reason": "a\"b"})
    action.run(ctx_for(api), inputs)
    (seen,) = api.requests
    assert seen.path == "/hosts/ws%201%2F..%2Fadmin%3Fx%3D1/isolate"
    assert seen.json() == {"reason": 'a"b'}


def test_fill_rules() -> None:
    values = {"ip": "1.2.3.4", "n": 3, "tags": ["a", "b"]}
    assert fill("/x/{ip}/{{literal}}", values, encode=True, where="w") == "/x/1.2.3.4/{literal}"
    assert fill_body({"count": "{n}", "tags": "{tags}", "text": "n={n}"}, values, "w") == {
        "count": 3, "tags": ["a", "b"], "text": "n=3"}
    with pytest.raises(UsageError, match=r"w: unknown placeholder \{user\} \(known: ip, n, tags"):
        fill_body({"a": ["{user}"]}, values, "w")


def test_an_unknown_placeholder_is_a_usage_error(api: ApiServer) -> None:
    ops = {"quarantine_host": {"method": "POST", "path": "/hosts/{hostname}"}}
    ctx = FakeContext(http_connector(api.url, ops))
    action = registry.get("edr.quarantine_host")
    with pytest.raises(UsageError, match=r"unknown placeholder \{hostname\}"):
        action.run(ctx, action.Inputs.model_validate({"host": "ws1"}))
    assert api.requests == []


def test_a_missing_operation_is_named(api: ApiServer) -> None:
    action = registry.get("mail.block_sender")
    with pytest.raises(UsageError, match="has no operation 'block_sender'"):
        action.run(ctx_for(api), action.Inputs.model_validate({"sender": "x@evil.example"}))


def test_ticket_id_is_read_from_the_configured_field(api: ApiServer) -> None:
    api.routes[("POST", "/tickets")] = Reply(201, {"result": {"number": "INC0012"}})
    action = registry.get("ticket.create")
    out = action.run(ctx_for(api), action.Inputs.model_validate(
        {"title": "Ransomware on WS1", "severity": "critical"}))
    assert out.ticket_id == "INC0012"
    assert api.requests[0].json() == {"fields": {"summary": "Ransomware on WS1",
                                                 "priority": "critical"}}


def test_http_lookup_returns_the_body(api: ApiServer) -> None:
    api.routes[("GET", "/whois/evil.example")] = Reply(200, {"registrar": "R"})
    action = registry.get("http.lookup")
    out = action.run(ctx_for(api), action.Inputs.model_validate(
        {"params": {"domain": "evil.example", "full": True}}))
    assert (out.status, out.body) == (200, {"registrar": "R"})
    assert api.requests[0].path == "/whois/evil.example?full=true"


@pytest.mark.parametrize(("auth", "secrets", "header", "expected"), [
    ({"type": "bearer"}, {"token": "T0k"}, "authorization", "Bearer T0k"),
    ({"type": "basic"}, {"username": "u", "password": "p:w"}, "authorization",
     "Basic " + base64.b64encode(b"u:p:w").decode()),
    ({"type": "header", "header": "X-Api-Key", "secret": "api_key"}, {"api_key": "K3y"},
     "x-api-key", "K3y"),
])
def test_auth_headers(api: ApiServer, auth: dict[str, str], secrets: dict[str, str],
                      header: str, expected: str) -> None:
    ctx = FakeContext(http_connector(api.url, OPS, auth=auth, secrets=secrets))
    action = registry.get("edr.quarantine_host")
    action.run(ctx, action.Inputs.model_validate({"host": "ws1"}))
    assert api.requests[0].headers[header] == expected


def test_an_unexpected_status_fails_and_hides_the_token(api: ApiServer,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    api.routes[("POST", "/hosts/ws1/isolate")] = Reply(503, {"error": "busy"})
    ctx = FakeContext(http_connector(api.url, OPS, auth={"type": "bearer"},
                                     secrets={"token": "TOPSECRET-42"}))
    action = registry.get("edr.quarantine_host")
    with pytest.raises(ActionFailed, match="answered 503") as caught:
        action.run(ctx, action.Inputs.model_validate({"host": "ws1"}))
    assert caught.value.retryable is True
    assert "TOPSECRET-42" not in caplog.text + str(caught.value) + repr(ctx)


def test_without_allow_private_the_api_on_loopback_is_refused(api: ApiServer) -> None:
    ctx = FakeContext(http_connector(api.url, OPS, allow_private=False))
    action = registry.get("edr.quarantine_host")
    with pytest.raises(ActionFailed, match=r"refused to connect to 127\.0\.0\.1: a loopback"):
        action.run(ctx, action.Inputs.model_validate({"host": "ws1"}))
    assert api.requests == []


def test_block_domain_and_sender_validate_inputs() -> None:
    domain = registry.get("firewall.block_domain").Inputs
    assert domain.model_validate({"domain": "EVIL.Example."}).domain == "evil.example"  # type: ignore[attr-defined]
    assert domain.model_validate({"domain": "bücher.example"}).domain == "xn--bcher-kva.example"  # type: ignore[attr-defined]
    for bad in ["evil .example", "-x.example", "a..b", "http://x.example/"]:
        with pytest.raises(ValidationError):
            domain.model_validate({"domain": bad})
    sender = registry.get("mail.block_sender").Inputs
    assert sender.model_validate({"sender": "Bad@EVIL.example"}).sender == "Bad@evil.example"  # type: ignore[attr-defined]
    with pytest.raises(ValidationError):
        sender.model_validate({"sender": "a@b@c"})


@pytest.mark.parametrize("value", [".", ".."])
def test_a_value_of_dots_cannot_climb_the_path(value: str) -> None:
    with pytest.raises(UsageError, match="cannot be"):
        fill("/api/hosts/{host}/isolate", {"host": value}, encode=True, where="quarantine_host")
    assert fill("/api/hosts/{host}/isolate", {"host": "../x"}, encode=True,
                where="q") == "/api/hosts/..%2Fx/isolate"

"""Directory accounts (ldap3's MOCK_SYNC server), mail (a real aiosmtpd server on loopback)
and chat webhooks (the recording API server)."""

from __future__ import annotations

import socket
import warnings
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest

from tests.response.conftest import ApiServer, FakeContext
from watchkeeper.response.actions import default_actions
from watchkeeper.response.actions.base import ActionFailed, Connector
from watchkeeper.response.adapters.directory import Directory, LdapConfig, ldap3_module
from watchkeeper.response.adapters.mail import message_id
from watchkeeper.response.outbound import Outbound

registry = default_actions(entry_points=False)
BASE = "ou=people,dc=example,dc=com"


def mock_directory(users: dict[str, dict[str, Any]]) -> Directory:
    ldap3 = ldap3_module()
    server = ldap3.Server("dc1.example.com")
    connection = ldap3.Connection(server, user="cn=admin,dc=example,dc=com", password="pw",
                                  client_strategy=ldap3.MOCK_SYNC)
    connection.strategy.add_entry("cn=admin,dc=example,dc=com", {"userPassword": "pw"})
    for name, attributes in users.items():
        connection.strategy.add_entry(f"cn={name},{BASE}",
                                      {"objectClass": ["person"], **attributes})

    def connect(connector: Connector, config: LdapConfig, timeout: float) -> Any:
        connection.bind()
        return connection

    return Directory(connect)


def ldap_connector(**config: Any) -> Connector:
    return Connector("dc", "ldap", {"url": "ldaps://dc1.example.com", "base_dn": BASE, **config},
                     {"bind_dn": "cn=admin,dc=example,dc=com", "password": "pw"})


def action(name: str, directory: Directory) -> Any:
    return type(registry.get(name))(directory=directory)  # type: ignore[call-arg]


def test_active_directory_disable_sets_bit_2_and_enable_clears_it() -> None:
    directory = mock_directory({"jdoe": {"sAMAccountName": "jdoe", "userAccountControl": 512}})
    disable, enable = action("identity.disable_user", directory), action(
        "identity.enable_user", directory)
    ctx = FakeContext(ldap_connector())
    inputs = disable.Inputs.model_validate({"user": "jdoe", "reason": "phished"})
    assert disable.before(ctx, inputs) == {"dn": f"cn=jdoe,{BASE}", "disabled": False}
    out = disable.run(ctx, inputs)
    assert (out.changed, out.reference) == (True, f"cn=jdoe,{BASE}")
    assert directory.state(ctx, ctx.step_connector, "jdoe").was_disabled is True  # type: ignore[arg-type]
    undo = disable.undo_inputs(inputs, out)
    assert undo["was_disabled"] is False
    assert enable.run(ctx, enable.Inputs.model_validate(undo)).changed is True
    assert directory.state(ctx, ctx.step_connector, "jdoe").was_disabled is False  # type: ignore[arg-type]


def test_undo_leaves_an_account_that_was_already_disabled() -> None:
    directory = mock_directory({"old": {"sAMAccountName": "old", "userAccountControl": 514}})
    disable, enable = action("identity.disable_user", directory), action(
        "identity.enable_user", directory)
    ctx = FakeContext(ldap_connector())
    inputs = disable.Inputs.model_validate({"user": "old"})
    out = disable.run(ctx, inputs)
    assert out.changed is False
    assert enable.run(ctx, enable.Inputs.model_validate(disable.undo_inputs(inputs, out))
                      ).changed is False
    assert directory.state(ctx, ctx.step_connector, "old").was_disabled is True  # type: ignore[arg-type]


def test_openldap_attribute_mode_and_filter_escaping() -> None:
    directory = mock_directory({"amy": {"uid": "amy"}, "x*": {"uid": "x*"}})
    ctx = FakeContext(ldap_connector(mode="attribute", attribute="pwdAccountLockedTime",
                                     disabled_value="000001010000Z", user_filter="(uid={user})"))
    disable = action("identity.disable_user", directory)
    assert disable.run(ctx, disable.Inputs.model_validate({"user": "amy"})).changed is True
    assert directory.state(ctx, ctx.step_connector, "amy").was_disabled is True  # type: ignore[arg-type]
    with pytest.raises(ActionFailed, match="0 directory accounts match 'a\\*'"):
        disable.run(ctx, disable.Inputs.model_validate({"user": "a*"}))


def test_a_directory_on_a_private_address_is_refused() -> None:
    outbound = Outbound(resolve=lambda host, port: ["10.20.0.5"])
    disable = type(registry.get("identity.disable_user"))(outbound)  # type: ignore[call-arg]
    with pytest.raises(ActionFailed, match=r"'dc1.example.com' \(10.20.0.5\).*private"):
        disable.run(FakeContext(ldap_connector()),
                    disable.Inputs.model_validate({"user": "jdoe"}))


@pytest.fixture
def smtpd() -> Iterator[tuple[Any, list[Any]]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from aiosmtpd.controller import Controller
    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller, received
    finally:
        controller.stop()


def test_email_is_delivered_to_a_real_smtp_server(smtpd: tuple[Any, list[Any]]) -> None:
    controller, received = smtpd
    port = controller.port
    connector = Connector("relay", "smtp", {"host": "127.0.0.1", "port": port,
                                            "security": "none",
                                            "from_address": "soc@example.com"},
                          allow_private=True)
    send = registry.get("email.send")
    out = send.run(FakeContext(connector), send.Inputs.model_validate(
        {"to": ["oncall@example.com", "cto@example.com"], "subject": "Contained WS1",
         "body": "Host WS1 is quarantined."}))
    (envelope,) = received
    assert envelope.mail_from == "soc@example.com"
    assert envelope.rcpt_tos == ["oncall@example.com", "cto@example.com"]
    message = message_from_bytes(envelope.content)
    assert message["Subject"] == "Contained WS1"
    assert message["Message-ID"] == message_id("run-7.step-block") == out.message_id
    assert "Host WS1 is quarantined." in message.get_payload()


def test_email_to_loopback_without_allow_private_is_refused(
        smtpd: tuple[Any, list[Any]]) -> None:
    controller, received = smtpd
    port = controller.port
    connector = Connector("relay", "smtp", {"host": "127.0.0.1", "port": port,
                                            "security": "none", "from_address": "a@b.example"})
    send = registry.get("email.send")
    with pytest.raises(ActionFailed, match="refused to connect"):
        send.run(FakeContext(connector), send.Inputs.model_validate(
            {"to": ["x@example.com"], "subject": "s", "body": "b"}))
    assert received == []


def test_a_header_injection_in_the_subject_is_refused() -> None:
    with pytest.raises(ValueError, match="one line"):
        registry.get("email.send").Inputs.model_validate(
            {"to": ["x@example.com"], "subject": "hi\r\nBcc: all@example.com", "body": ""})


@pytest.mark.parametrize(("name", "kind", "expected"), [
    ("slack.post", "slack", {"text": "Blocked 203.0.113.7", "attachments": [{"fields": [
        {"title": "case", "value": "42", "short": True}]}]}),
    ("teams.post", "teams", {"@type": "MessageCard", "@context": "https://schema.org/extensions",
                             "summary": "Blocked 203.0.113.7", "text": "Blocked 203.0.113.7",
                             "sections": [{"facts": [{"name": "case", "value": "42"}]}]}),
    ("webhook.post", "webhook", {"text": "Blocked 203.0.113.7", "fields": {"case": 42}}),
])
def test_chat_posts(api: ApiServer, name: str, kind: str, expected: dict[str, Any]) -> None:
    connector = Connector("chat", kind, {}, {"url": f"{api.url}/hooks/T000/B000/XXXX"},
                          allow_private=True)
    post = registry.get(name)
    out = post.run(FakeContext(connector), post.Inputs.model_validate(
        {"text": "Blocked 203.0.113.7", "fields": {"case": 42}}))
    assert out.status == 200
    (seen,) = api.requests
    assert (seen.method, seen.path) == ("POST", "/hooks/T000/B000/XXXX")
    assert seen.json() == expected
    plan = post.plan(FakeContext(connector), post.Inputs.model_validate({"text": "x"}))
    assert "XXXX" not in plan.summary, "the webhook URL is a secret"

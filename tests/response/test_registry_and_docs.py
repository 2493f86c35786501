"""The built-in registry: exact names, undo pairs, plans for every action, and docs in step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.response.conftest import FakeContext, http_connector
from watchkeeper.response.actions import default_actions
from watchkeeper.response.actions.base import ActionKind, Connector
from watchkeeper.response.actions.docs import REGENERATE, built_in_reference

DOCS = Path(__file__).resolve().parents[2] / "docs"
registry = default_actions(entry_points=False)

NAMES = {
    "firewall.block_ip", "firewall.unblock_ip", "firewall.block_domain",
    "firewall.unblock_domain", "edr.quarantine_host", "edr.release_host",
    "identity.disable_user", "identity.enable_user", "mail.block_sender", "mail.unblock_sender",
    "asset.lookup", "intel.lookup", "events.search", "dns.resolve", "http.lookup",
    "indicators.extract", "email.send", "slack.post", "teams.post", "webhook.post",
    "ticket.create", "change.request", "vuln.rescan", "identity.revoke_sessions",
}

SAMPLE: dict[str, dict[str, Any]] = {
    "firewall.block_ip": {"ip": "203.0.113.7"}, "firewall.unblock_ip": {"ip": "203.0.113.7"},
    "firewall.block_domain": {"domain": "evil.example"},
    "firewall.unblock_domain": {"domain": "evil.example"},
    "edr.quarantine_host": {"host": "ws1"}, "edr.release_host": {"host": "ws1"},
    "identity.disable_user": {"user": "jdoe"}, "identity.enable_user": {"user": "jdoe"},
    "mail.block_sender": {"sender": "x@evil.example"},
    "mail.unblock_sender": {"sender": "x@evil.example"},
    "asset.lookup": {"host": "ws1"}, "intel.lookup": {"value": "evil.example"},
    "events.search": {"query": "x"}, "dns.resolve": {"name": "evil.example"},
    "http.lookup": {"operation": "get", "params": {"q": "x"}},
    "indicators.extract": {"text": "1.2.3.4"},
    "email.send": {"to": ["a@example.com"], "subject": "s", "body": "b"},
    "slack.post": {"text": "t"}, "teams.post": {"text": "t"}, "webhook.post": {"text": "t"},
    "ticket.create": {"title": "t"}, "change.request": {"asset": "ws1", "summary": "patch"},
    "vuln.rescan": {"target": "ws1"}, "identity.revoke_sessions": {"user": "jdoe"},
}


def test_the_built_in_names() -> None:
    assert set(registry.names()) == NAMES


def test_containment_actions_undo_each_other() -> None:
    for name in registry.names():
        action = registry.get(name)
        if action.kind is ActionKind.CONTAINMENT:
            assert action.undo is not None
            assert registry.get(action.undo).undo == name


def connector_for(types: tuple[str, ...]) -> Connector | None:
    if not types:
        return None
    kind = types[0]
    if kind == "http":
        operations = {op: {"method": "POST", "path": f"/{op}"} for op in (
            "block_ip", "unblock_ip", "block_domain", "unblock_domain", "quarantine_host",
            "release_host", "disable_user", "enable_user", "block_sender", "unblock_sender",
            "create_ticket", "request_change", "rescan", "revoke_sessions", "get")}
        return http_connector("https://api.example.com", operations)
    if kind == "smtp":
        return Connector("relay", "smtp", {"host": "mail.example.com",
                                           "from_address": "soc@example.com"})
    return Connector("c", kind, {}, {"url": "https://hooks.example.com/x"})


@pytest.mark.parametrize("name", sorted(NAMES))
def test_every_action_plans_without_acting(name: str) -> None:
    action = registry.get(name)
    inputs = action.Inputs.model_validate(SAMPLE[name])
    plan = action.plan(FakeContext(connector_for(action.connector_types)), inputs)
    assert plan.summary
    action.Outputs.model_validate(plan.outputs)


def test_docs_actions_md_is_generated() -> None:
    expected = built_in_reference()
    current = (DOCS / "actions.md").read_text(encoding="utf-8")
    assert current == expected, f"docs/actions.md is out of date: run `{REGENERATE}`"
    for name in NAMES:
        assert f"## `{name}`" in current


def test_docs_connectors_md_covers_every_type() -> None:
    text = (DOCS / "connectors.md").read_text(encoding="utf-8")
    from watchkeeper.response.adapters import default_connector_types
    for kind in default_connector_types().names():
        assert f"## `{kind}`" in text, f"docs/connectors.md does not describe {kind}"
    assert "allow_private" in text

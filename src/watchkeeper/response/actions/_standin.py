"""TEMPORARY stand-ins for the built-in actions, with their names, inputs, kinds, connector
types and undo, so that playbooks load and their tests run before the real actions exist.

They do nothing: :meth:`run` refuses (only ``indicators.extract``, which is pure, works)
and :meth:`plan` describes the call. Delete this module once ``default_actions()`` returns
the real registry.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field

from watchkeeper.response.actions.base import (
    Action,
    ActionContext,
    ActionFailed,
    ActionInputs,
    ActionKind,
    ActionOutputs,
    ActionRegistry,
    Plan,
)


class _StandIn(Action[Any, Any]):
    def run(self, ctx: ActionContext, inputs: Any) -> Any:
        raise ActionFailed(f"{self.name} is a stand-in and cannot act", retryable=False)

    def plan(self, ctx: ActionContext, inputs: Any) -> Plan:
        values = inputs.model_dump(exclude_none=True)
        return Plan(f"{self.name} {values}", [str(v) for v in values.values()][:1])


# containment -------------------------------------------------------------------------

class IpInputs(ActionInputs):
    ip: str
    direction: str = "inbound"
    comment: str = ""


class DomainInputs(ActionInputs):
    domain: str


class HostInputs(ActionInputs):
    host: str
    reason: str = ""


class UserInputs(ActionInputs):
    user: str
    reason: str = ""


class SenderInputs(ActionInputs):
    sender: str


class BlockOutputs(ActionOutputs):
    target: str = ""
    reference: str = ""


def _containment(name: str, inputs: type[ActionInputs], connectors: tuple[str, ...],
                 undo: str) -> type[_StandIn]:
    return type(name.replace(".", "_"), (_StandIn,), {
        "name": name, "title": name, "kind": ActionKind.CONTAINMENT, "Inputs": inputs,
        "Outputs": BlockOutputs, "connector_types": connectors, "undo": undo})


_FIREWALL = ("nftables", "iptables", "http")
CONTAINMENT = [
    _containment("firewall.block_ip", IpInputs, _FIREWALL, "firewall.unblock_ip"),
    _containment("firewall.unblock_ip", IpInputs, _FIREWALL, "firewall.block_ip"),
    _containment("firewall.block_domain", DomainInputs, ("http",), "firewall.unblock_domain"),
    _containment("firewall.unblock_domain", DomainInputs, ("http",), "firewall.block_domain"),
    _containment("edr.quarantine_host", HostInputs, ("http",), "edr.release_host"),
    _containment("edr.release_host", HostInputs, ("http",), "edr.quarantine_host"),
    _containment("identity.disable_user", UserInputs, ("http", "ldap"), "identity.enable_user"),
    _containment("identity.enable_user", UserInputs, ("http", "ldap"), "identity.disable_user"),
    _containment("mail.block_sender", SenderInputs, ("http",), "mail.unblock_sender"),
    _containment("mail.unblock_sender", SenderInputs, ("http",), "mail.block_sender"),
]


# enrichment ----------------------------------------------------------------------------

class AssetInputs(ActionInputs):
    host: str | None = None
    ip: str | None = None


class AssetOutputs(ActionOutputs):
    found: bool = False
    name: str | None = None
    criticality: str | None = None
    owner: str | None = None
    tags: list[str] = Field(default_factory=list)


class IntelInputs(ActionInputs):
    value: str | None = None
    values: list[str] = Field(default_factory=list)


class IntelOutputs(ActionOutputs):
    found: bool = False
    matches: list[dict[str, Any]] = Field(default_factory=list)


class SearchInputs(ActionInputs):
    query: str
    hours: float = 24
    limit: int = 100


class SearchOutputs(ActionOutputs):
    count: int = 0
    events: list[dict[str, Any]] = Field(default_factory=list)


class DnsInputs(ActionInputs):
    name: str


class DnsOutputs(ActionOutputs):
    addresses: list[str] = Field(default_factory=list)


class HttpInputs(ActionInputs):
    operation: str
    params: dict[str, Any] = Field(default_factory=dict)


class HttpOutputs(ActionOutputs):
    status: int = 0
    body: Any = None


class TextInputs(ActionInputs):
    text: str


class IndicatorOutputs(ActionOutputs):
    ips: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)
    urls: list[str] = Field(default_factory=list)
    hashes: list[str] = Field(default_factory=list)
    emails: list[str] = Field(default_factory=list)


def _simple(name: str, kind: ActionKind, inputs: type[ActionInputs],
            outputs: type[ActionOutputs], connectors: tuple[str, ...] = ()) -> type[_StandIn]:
    return type(name.replace(".", "_"), (_StandIn,), {
        "name": name, "title": name, "kind": kind, "Inputs": inputs, "Outputs": outputs,
        "connector_types": connectors})


_URL = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@([a-z0-9-]+(?:\.[a-z0-9-]+)+)\b", re.IGNORECASE)
_DOMAIN = re.compile(r"\b(?:[a-z0-9-]+\.)+[a-z]{2,24}\b", re.IGNORECASE)
_IP = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_HASH = re.compile(r"\b(?:[a-f0-9]{64}|[a-f0-9]{40}|[a-f0-9]{32})\b", re.IGNORECASE)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class ExtractIndicators(Action[TextInputs, IndicatorOutputs]):
    """URLs, domains, IP addresses, hashes and e-mail addresses found in a text."""

    name = "indicators.extract"
    title = "Extract indicators"
    kind = ActionKind.ENRICHMENT
    Inputs = TextInputs
    Outputs = IndicatorOutputs
    pure = True

    def run(self, ctx: ActionContext, inputs: TextInputs) -> IndicatorOutputs:
        text = inputs.text
        urls = _unique([u.rstrip(".,;)") for u in _URL.findall(text)])
        emails = _unique([m.group(0).lower() for m in _EMAIL.finditer(text)])
        rest = _EMAIL.sub(" ", _URL.sub(" ", text))
        hosts = [urlsplit(u).hostname or "" for u in urls]
        domains = _unique([d.lower() for d in [*hosts, *_DOMAIN.findall(rest)]
                           if d and not _IP.fullmatch(d)])
        return IndicatorOutputs(ips=_unique(_IP.findall(text)), domains=domains, urls=urls,
                                hashes=_unique([h.lower() for h in _HASH.findall(text)]),
                                emails=emails)

    def plan(self, ctx: ActionContext, inputs: TextInputs) -> Plan:
        return Plan("extract indicators from the text", outputs=self.run(ctx, inputs)
                    .model_dump())


ENRICHMENT = [
    _simple("asset.lookup", ActionKind.ENRICHMENT, AssetInputs, AssetOutputs),
    _simple("intel.lookup", ActionKind.ENRICHMENT, IntelInputs, IntelOutputs),
    _simple("events.search", ActionKind.ENRICHMENT, SearchInputs, SearchOutputs),
    _simple("dns.resolve", ActionKind.ENRICHMENT, DnsInputs, DnsOutputs),
    _simple("http.lookup", ActionKind.ENRICHMENT, HttpInputs, HttpOutputs, ("http",)),
    ExtractIndicators,
]


# communication and operations ----------------------------------------------------------

class EmailInputs(ActionInputs):
    to: list[str] | str
    subject: str
    body: str


class PostInputs(ActionInputs):
    text: str
    fields: dict[str, Any] = Field(default_factory=dict)


class SentOutputs(ActionOutputs):
    reference: str = ""


class TicketInputs(ActionInputs):
    title: str
    description: str = ""
    severity: str = "medium"


class TicketOutputs(ActionOutputs):
    ticket_id: str = ""


class ChangeInputs(ActionInputs):
    asset: str
    summary: str
    cve: str | None = None


class ChangeOutputs(ActionOutputs):
    change_id: str = ""


class RescanInputs(ActionInputs):
    target: str


class RescanOutputs(ActionOutputs):
    scan_id: str = ""


class RevokeInputs(ActionInputs):
    user: str


class RevokeOutputs(ActionOutputs):
    revoked: int = 0


_COMMUNICATION = ActionKind.COMMUNICATION
_OPERATIONS = ActionKind.OPERATIONS
OTHERS = [
    _simple("email.send", _COMMUNICATION, EmailInputs, SentOutputs, ("smtp",)),
    _simple("slack.post", _COMMUNICATION, PostInputs, SentOutputs, ("slack",)),
    _simple("teams.post", _COMMUNICATION, PostInputs, SentOutputs, ("teams",)),
    _simple("webhook.post", _COMMUNICATION, PostInputs, SentOutputs, ("webhook",)),
    _simple("ticket.create", _COMMUNICATION, TicketInputs, TicketOutputs, ("http",)),
    _simple("change.request", _OPERATIONS, ChangeInputs, ChangeOutputs, ("http",)),
    _simple("vuln.rescan", _OPERATIONS, RescanInputs, RescanOutputs, ("http",)),
    _simple("identity.revoke_sessions", _OPERATIONS, RevokeInputs, RevokeOutputs, ("http",)),
]


def standin_actions() -> ActionRegistry:
    """A registry of every stand-in."""
    registry = ActionRegistry()
    for cls in [*CONTAINMENT, *ENRICHMENT, *OTHERS]:
        registry.register(cls())
    registry.check_undo()
    return registry

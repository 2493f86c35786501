"""Read-only actions that add context: assets, intel matches, events, DNS, any JSON API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal

import dns.exception
import dns.resolver
from pydantic import Field, field_validator, model_validator

from watchkeeper.response.actions._support import HttpOperationAction, domain
from watchkeeper.response.actions.base import (
    Action,
    ActionContext,
    ActionFailed,
    ActionInputs,
    ActionKind,
    ActionOutputs,
    Connector,
    Plan,
)
from watchkeeper.response.adapters import httpapi


class AssetInputs(ActionInputs):
    host: str | None = Field(None, max_length=255)
    """The host name."""
    ip: str | None = Field(None, max_length=64)
    """An address of the host."""

    @model_validator(mode="after")
    def _one(self) -> AssetInputs:
        if not self.host and not self.ip:
            raise ValueError("give host or ip")
        return self


class AssetOutputs(ActionOutputs):
    found: bool
    name: str | None = None
    ip: str | None = None
    criticality: str | None = None
    """low, medium, high or critical; null when the asset is unknown."""
    owner: str | None = None
    tags: list[str] = Field(default_factory=list)


class AssetLookup(Action[AssetInputs, AssetOutputs]):
    """The inventory's record of a host (owner, criticality, tags), by name or address."""

    name = "asset.lookup"
    title = "Look up an asset"
    kind: ClassVar[ActionKind] = ActionKind.ENRICHMENT
    Inputs = AssetInputs
    Outputs = AssetOutputs

    def run(self, ctx: ActionContext, inputs: AssetInputs) -> AssetOutputs:
        asset = ctx.lookups.asset(inputs.host, inputs.ip)
        if asset is None:
            return AssetOutputs(found=False)
        tags = asset.get("tags") or []
        if isinstance(tags, str):
            tags = [t.strip() for t in tags.split(",") if t.strip()]
        return AssetOutputs(found=True, name=asset.get("name"), ip=asset.get("ip"),
                            criticality=asset.get("criticality"), owner=asset.get("owner"),
                            tags=[str(t) for t in tags])

    def plan(self, ctx: ActionContext, inputs: AssetInputs) -> Plan:
        return Plan("look up the asset (reads only)", [t for t in (inputs.host, inputs.ip) if t],
                    {"found": False})


class IntelInputs(ActionInputs):
    value: str | None = Field(None, max_length=2048)
    """One value to look up: an address, domain, URL or hash."""
    values: list[str] = Field(default_factory=list, max_length=1000)
    """Several values (with or instead of ``value``)."""

    @model_validator(mode="after")
    def _some(self) -> IntelInputs:
        if not self.value and not self.values:
            raise ValueError("give value or values")
        return self

    def all(self) -> list[str]:
        return list(dict.fromkeys([*([self.value] if self.value else []), *self.values]))


class IntelOutputs(ActionOutputs):
    found: bool
    matches: list[dict[str, Any]]
    """The indicators that match, with their source, type and confidence."""


class IntelLookup(Action[IntelInputs, IntelOutputs]):
    """Which threat-intel indicators match the values (addresses, domains, hashes, URLs)."""

    name = "intel.lookup"
    title = "Look up threat intel"
    kind: ClassVar[ActionKind] = ActionKind.ENRICHMENT
    Inputs = IntelInputs
    Outputs = IntelOutputs

    def run(self, ctx: ActionContext, inputs: IntelInputs) -> IntelOutputs:
        matches = [m for value in inputs.all() for m in ctx.lookups.indicator(value)]
        return IntelOutputs(found=bool(matches), matches=matches)

    def plan(self, ctx: ActionContext, inputs: IntelInputs) -> Plan:
        return Plan("look up the values in threat intel (reads only)", inputs.all(),
                    {"found": False, "matches": []})


class SearchInputs(ActionInputs):
    query: str = Field(min_length=1, max_length=10_000)
    """A search query, as in the search page."""
    hours: float = Field(24.0, gt=0, le=24 * 366)
    """How far back to look."""
    limit: int = Field(100, ge=1, le=10_000)
    """Events returned at most."""


class SearchOutputs(ActionOutputs):
    count: int
    """Events returned."""
    events: list[dict[str, Any]]


class EventsSearch(Action[SearchInputs, SearchOutputs]):
    """Events of the last ``hours`` matching a search query, newest first."""

    name = "events.search"
    title = "Search events"
    kind: ClassVar[ActionKind] = ActionKind.ENRICHMENT
    Inputs = SearchInputs
    Outputs = SearchOutputs

    def run(self, ctx: ActionContext, inputs: SearchInputs) -> SearchOutputs:
        events = ctx.lookups.search_events(inputs.query, inputs.hours, inputs.limit)
        return SearchOutputs(count=len(events), events=events)

    def plan(self, ctx: ActionContext, inputs: SearchInputs) -> Plan:
        return Plan(f"search events of the last {inputs.hours:g}h (reads only)", [],
                    {"count": 0, "events": []})


RecordType = Literal["A", "AAAA"]
_BOTH: tuple[RecordType, ...] = ("A", "AAAA")


class ResolveInputs(ActionInputs):
    name: str
    """The DNS name to resolve."""
    types: list[RecordType] = Field(default_factory=lambda: list(_BOTH), min_length=1)
    """Record types to ask for."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return domain(value)


class ResolveOutputs(ActionOutputs):
    addresses: list[str]
    """The addresses, without duplicates."""
    found: bool


ResolverFactory = Callable[[], dns.resolver.Resolver]


class DnsResolve(Action[ResolveInputs, ResolveOutputs]):
    """The A and AAAA addresses a name resolves to now (an empty list when it does not exist)."""

    name = "dns.resolve"
    title = "Resolve a name"
    kind: ClassVar[ActionKind] = ActionKind.ENRICHMENT
    Inputs = ResolveInputs
    Outputs = ResolveOutputs

    def __init__(self, resolver: ResolverFactory = dns.resolver.Resolver) -> None:
        self.resolver = resolver

    def run(self, ctx: ActionContext, inputs: ResolveInputs) -> ResolveOutputs:
        resolver = self.resolver()
        resolver.lifetime = min(float(ctx.timeout_s), 30.0)
        addresses: list[str] = []
        for kind in inputs.types:
            try:
                answer = resolver.resolve(inputs.name, kind, search=False)
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                continue
            except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
                raise ActionFailed(f"resolving {inputs.name}: {type(exc).__name__}") from None
            addresses += [record.to_text() for record in answer]
        return ResolveOutputs(addresses=list(dict.fromkeys(addresses)), found=bool(addresses))

    def plan(self, ctx: ActionContext, inputs: ResolveInputs) -> Plan:
        return Plan(f"resolve {inputs.name} ({', '.join(inputs.types)})", [inputs.name],
                    {"addresses": [], "found": False})


class LookupInputs(ActionInputs):
    operation: str = Field("get", pattern=r"^[a-z][a-z0-9_]{0,62}$")
    """The connector operation to call."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Values of the operation's ``{placeholders}``."""


class LookupOutputs(ActionOutputs):
    status: int
    """The HTTP status of the answer."""
    body: Any
    """The answer: JSON when it is JSON, else text."""


class HttpLookup(HttpOperationAction[LookupInputs, LookupOutputs]):
    """Any JSON lookup (WHOIS, reputation, CMDB) through an operation of an ``http``
    connector, named by ``operation``; ``params`` fill its placeholders."""

    name = "http.lookup"
    title = "Look up through an HTTP API"
    kind: ClassVar[ActionKind] = ActionKind.ENRICHMENT
    Inputs = LookupInputs
    Outputs = LookupOutputs

    def _values(self, ctx: ActionContext, inputs: LookupInputs) -> dict[str, Any]:
        return {**inputs.params, "key": ctx.idempotency_key}

    def run(self, ctx: ActionContext, inputs: LookupInputs) -> LookupOutputs:
        connector = ctx.connector(self.connector_types)
        result = httpapi.call(self.outbound, ctx, connector, inputs.operation,
                              self._values(ctx, inputs))
        return LookupOutputs(status=result.status, body=result.body)

    def plan(self, ctx: ActionContext, inputs: LookupInputs) -> Plan:
        connector: Connector = ctx.connector(self.connector_types)
        request = httpapi.prepare(connector, inputs.operation, self._values(ctx, inputs))
        return Plan(f"{connector.name}: {request.describe()} (reads only)", [],
                    {"status": 200, "body": None})

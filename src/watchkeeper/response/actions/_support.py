"""What the built-in actions share: validated targets, the step's TTL, and one base class for
actions that are a single operation of an ``http`` connector."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, ClassVar, TypeVar

from pydantic import Field

from watchkeeper.response.actions.base import (
    Action,
    ActionContext,
    ActionInputs,
    ActionOutputs,
    Connector,
    Plan,
)
from watchkeeper.response.adapters import httpapi
from watchkeeper.response.outbound import Outbound

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MIN_PREFIX = {4: 8, 6: 32}
"""The widest networks one block may cover: a slip like ``0.0.0.0/0`` must not cut a site off."""

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
DOMAIN = re.compile(rf"^(?:{_LABEL}\.)+[a-z][a-z0-9-]{{0,62}}$")
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}"
                   r"@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}$")


def network(value: str) -> Network:
    """An address or CIDR block, host bits not allowed, no wider than :data:`MIN_PREFIX`."""
    try:
        parsed = ipaddress.ip_network(value.strip(), strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an IP address or CIDR block ({exc})") from None
    if parsed.prefixlen < MIN_PREFIX[parsed.version]:
        raise ValueError(f"{parsed} is wider than /{MIN_PREFIX[parsed.version]}; "
                         "block smaller networks")
    return parsed


def shown(net: Network) -> str:
    """A single address without its ``/32`` or ``/128``; a network as CIDR."""
    return str(net.network_address) if net.num_addresses == 1 else str(net)


def domain(value: str) -> str:
    """A DNS name, lower-cased and IDNA-encoded; a trailing dot dropped."""
    try:
        text = value.strip().rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError(f"{value!r} is not a domain name") from None
    if len(text) > 253 or not DOMAIN.fullmatch(text):
        raise ValueError(f"{value!r} is not a domain name")
    return text


def step_ttl(ctx: ActionContext) -> float | None:
    """The step's ``ttl`` in seconds, when it has a positive one."""
    ttl = ctx.ttl_s
    return float(ttl) if ttl is not None and ttl > 0 else None


class ContainmentOutputs(ActionOutputs):
    """What every containment action reports, so that its undo can find what it did."""

    target: str
    """The address, domain, host, account or sender acted on."""
    reference: str
    """What the undo needs to find the change again (a rule comment, a remote id, a DN)."""
    connector: str = ""
    """The connector acted through."""
    changed: bool = True
    """False when the target was already in the requested state."""
    applied: list[str] = Field(default_factory=list)
    """The exact rules, commands or requests sent."""


def values(ctx: ActionContext, inputs: ActionInputs) -> dict[str, Any]:
    """Placeholder values of an operation: the inputs, plus ``key`` (the idempotency key)."""
    return {**inputs.model_dump(mode="json"), "key": ctx.idempotency_key}


In = TypeVar("In", bound=ActionInputs)
Out = TypeVar("Out", bound=ActionOutputs)


class HttpOperationAction(Action[In, Out]):
    """An action that is one named operation of an ``http`` connector."""

    operation: ClassVar[str]
    connector_types: ClassVar[tuple[str, ...]] = ("http",)

    def __init__(self, outbound: Outbound | None = None) -> None:
        self.outbound = outbound or Outbound()

    def targets(self, inputs: In) -> list[str]:
        """What the call touches, for a dry run's blast radius."""
        return []

    def outputs(self, ctx: ActionContext, connector: Connector, inputs: In,
                result: httpapi.Result, request: httpapi.Prepared) -> Out:
        raise NotImplementedError

    def assumed(self, ctx: ActionContext, connector: Connector, inputs: In,
                request: httpapi.Prepared) -> dict[str, Any]:
        """The outputs a dry run assumes."""
        return {}

    def call(self, ctx: ActionContext, inputs: In) -> tuple[Connector, httpapi.Result,
                                                           httpapi.Prepared]:
        connector = ctx.connector(self.connector_types)
        given = values(ctx, inputs)
        request = httpapi.prepare(connector, self.operation, given)
        result = httpapi.call(self.outbound, ctx, connector, self.operation, given)
        return connector, result, request

    def run(self, ctx: ActionContext, inputs: In) -> Out:
        connector, result, request = self.call(ctx, inputs)
        return self.outputs(ctx, connector, inputs, result, request)

    def plan(self, ctx: ActionContext, inputs: In) -> Plan:
        connector = ctx.connector(self.connector_types)
        request = httpapi.prepare(connector, self.operation, values(ctx, inputs))
        return Plan(summary=f"{connector.name}: {request.describe()}",
                    targets=self.targets(inputs),
                    outputs=self.assumed(ctx, connector, inputs, request))

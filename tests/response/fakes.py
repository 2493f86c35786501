"""Stand-in actions and connectors for tests of runs: they record every call."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.response.actions.base import (
    Action,
    ActionContext,
    ActionFailed,
    ActionInputs,
    ActionKind,
    ActionOutputs,
    ActionRegistry,
    Connector,
    Plan,
)


@dataclass
class Remote:
    """What the fake remote received: (action, inputs, idempotency key) per call."""

    calls: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    failures: list[ActionFailed] = field(default_factory=list)
    """Raised, first in first out, by the next calls."""
    blocked: set[str] = field(default_factory=set)
    during: list[Callable[[], None]] = field(default_factory=list)
    """Called, first in first out, inside the next calls (what happens meanwhile)."""

    def hit(self, action: str, inputs: dict[str, Any], key: str) -> None:
        self.calls.append((action, inputs, key))
        if self.during:
            self.during.pop(0)()
        if self.failures:
            raise self.failures.pop(0)

    def names(self) -> list[str]:
        return [name for name, _, _ in self.calls]


class IpIn(ActionInputs):
    ip: str
    comment: str = ""


class BlockOut(ActionOutputs):
    target: str
    reference: str


class Block(Action[IpIn, BlockOut]):
    name = "fake.block_ip"
    title = "Block an address (fake)"
    kind = ActionKind.CONTAINMENT
    Inputs = IpIn
    Outputs = BlockOut
    connector_types = ("fake",)
    undo = "fake.unblock_ip"

    def __init__(self, remote: Remote) -> None:
        self.remote = remote

    def run(self, ctx: ActionContext, inputs: IpIn) -> BlockOut:
        ctx.connector(self.connector_types)
        ipaddress.ip_address(inputs.ip)
        self.remote.hit(self.name, inputs.model_dump(), ctx.idempotency_key)
        self.remote.blocked.add(inputs.ip)
        return BlockOut(target=inputs.ip, reference=f"rule-{inputs.ip}")

    def before(self, ctx: ActionContext, inputs: IpIn) -> dict[str, Any]:
        return {"blocked": inputs.ip in self.remote.blocked}

    def plan(self, ctx: ActionContext, inputs: IpIn) -> Plan:
        return Plan(f"block {inputs.ip}", [inputs.ip],
                    {"target": inputs.ip, "reference": "(dry run)"})


class Unblock(Block):
    name = "fake.unblock_ip"
    undo = "fake.block_ip"

    def run(self, ctx: ActionContext, inputs: IpIn) -> BlockOut:
        self.remote.hit(self.name, inputs.model_dump(), ctx.idempotency_key)
        self.remote.blocked.discard(inputs.ip)
        return BlockOut(target=inputs.ip, reference="")


class HostIn(ActionInputs):
    host: str


class LookupOut(ActionOutputs):
    found: bool
    criticality: str | None = None


class Lookup(Action[HostIn, LookupOut]):
    name = "fake.lookup"
    title = "Look a host up (fake)"
    kind = ActionKind.ENRICHMENT
    Inputs = HostIn
    Outputs = LookupOut

    def __init__(self, remote: Remote) -> None:
        self.remote = remote

    def run(self, ctx: ActionContext, inputs: HostIn) -> LookupOut:
        self.remote.hit(self.name, inputs.model_dump(), ctx.idempotency_key)
        return LookupOut(found=True, criticality="high" if inputs.host.startswith("dc")
                         else "low")

    def plan(self, ctx: ActionContext, inputs: HostIn) -> Plan:
        return Plan(f"look up {inputs.host}", [inputs.host], {"found": True})


class Broken(Lookup):
    name = "fake.broken"

    def run(self, ctx: ActionContext, inputs: HostIn) -> LookupOut:
        raise RuntimeError("a bug in an action")


def registry(remote: Remote) -> ActionRegistry:
    actions = ActionRegistry()
    for action in (Block(remote), Unblock(remote), Lookup(remote), Broken(remote)):
        actions.register(action)
    return actions


class Connectors:
    def __init__(self, *names: str) -> None:
        self.known = {name: Connector(name, "fake") for name in names}

    def get(self, name: str) -> Connector:
        return self.known[name]

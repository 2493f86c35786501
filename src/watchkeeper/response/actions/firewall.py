"""Block and unblock addresses (nftables, iptables or an HTTP firewall API) and domains."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from watchkeeper.response.actions._support import (
    ContainmentOutputs,
    HttpOperationAction,
    Network,
    domain,
    network,
    shown,
    step_ttl,
    values,
)
from watchkeeper.response.actions.base import (
    Action,
    ActionContext,
    ActionInputs,
    ActionKind,
    Connector,
    Plan,
)
from watchkeeper.response.adapters import httpapi, netfilter
from watchkeeper.response.adapters.common import config_of
from watchkeeper.response.adapters.netfilter import (
    Direction,
    IptablesConfig,
    NftablesConfig,
    Runner,
    run_command,
)
from watchkeeper.response.outbound import Outbound, connector_timeout

_GONE = ("No such file or directory", "does not exist", "Bad rule")
"""What nft and iptables say when asked to remove something that is not there."""


class BlockIpInputs(ActionInputs):
    ip: str
    """An address (``203.0.113.7``, ``2001:db8::1``) or a CIDR block (``203.0.113.0/24``)."""
    direction: Literal["inbound", "outbound", "both"] = "inbound"
    """Traffic from the address, to it, or both."""
    comment: str = Field("", max_length=200)
    """Why; sent to an HTTP firewall as ``{comment}`` (rules on hosts carry the step's key)."""

    @field_validator("ip")
    @classmethod
    def _network(cls, value: str) -> str:
        return shown(network(value))

    @property
    def directions(self) -> list[Direction]:
        return ["inbound", "outbound"] if self.direction == "both" else [self.direction]


class UnblockIpInputs(BlockIpInputs):
    reference: str = Field("", max_length=200)
    """The block's ``reference``; without it every Watchkeeper rule for the address goes."""


class _FirewallAction(Action[Any, ContainmentOutputs]):
    kind: ClassVar[ActionKind] = ActionKind.CONTAINMENT
    Outputs = ContainmentOutputs
    connector_types: ClassVar[tuple[str, ...]] = ("nftables", "iptables", "http")

    def __init__(self, outbound: Outbound | None = None, runner: Runner = run_command) -> None:
        self.outbound = outbound or Outbound()
        self.runner = runner

    def _run(self, ctx: ActionContext, connector: Connector, argv: list[str],
             stdin: str | None) -> netfilter.Completed:
        return self.runner(argv, stdin, connector_timeout(ctx, connector))

    def _http(self, ctx: ActionContext, connector: Connector, operation: str,
              inputs: BlockIpInputs) -> ContainmentOutputs:
        given = values(ctx, inputs)
        request = httpapi.prepare(connector, operation, given)
        result = httpapi.call(self.outbound, ctx, connector, operation, given)
        reference = str(result.outputs.get("reference") or getattr(inputs, "reference", "")
                        or ctx.idempotency_key)
        return ContainmentOutputs(target=inputs.ip, reference=reference,
                                  connector=connector.name, applied=[request.describe()])

    def _http_plan(self, ctx: ActionContext, connector: Connector, operation: str,
                   inputs: BlockIpInputs) -> Plan:
        request = httpapi.prepare(connector, operation, values(ctx, inputs))
        outputs = ContainmentOutputs(target=inputs.ip, reference=ctx.idempotency_key,
                                     connector=connector.name, applied=[request.describe()])
        return Plan(f"{connector.name}: {request.describe()}", [inputs.ip],
                    outputs.model_dump(mode="json"))


class BlockIp(_FirewallAction):
    """Drop traffic from (inbound), to (outbound) or both ways for an address or CIDR block.

    On nftables the address joins a set (with a timeout when the step has a TTL); on iptables
    a DROP rule commented ``watchkeeper:<key>`` is inserted once; on an ``http`` connector the
    operation ``block_ip`` is called with ``{ip}``, ``{direction}``, ``{comment}``, ``{key}``."""

    name = "firewall.block_ip"
    title = "Block an IP address"
    Inputs = BlockIpInputs
    undo = "firewall.unblock_ip"

    def commands(self, ctx: ActionContext, connector: Connector,
                 inputs: BlockIpInputs) -> list[tuple[list[str], str | None]]:
        """The argv and standard input of each command the block runs, in order."""
        net = network(inputs.ip)
        if connector.type == "nftables":
            config = config_of(connector, NftablesConfig)
            script = netfilter.nft_script(config, "add", [net], inputs.directions,
                                          ctx.idempotency_key, step_ttl(ctx))
            return [([*config.prefix, *config.command], script)]
        iptables = config_of(connector, IptablesConfig)
        return [(netfilter.iptables_argv(iptables, "-I", net, d, ctx.idempotency_key), None)
                for d in inputs.directions]

    def before(self, ctx: ActionContext, inputs: BlockIpInputs) -> dict[str, Any]:
        connector = ctx.connector(self.connector_types)
        if connector.type != "iptables":
            return {}
        return {"present": {d: self._present(ctx, connector, network(inputs.ip), d)
                            for d in inputs.directions}}

    def _present(self, ctx: ActionContext, connector: Connector, net: Network,
                 direction: Direction) -> bool:
        argv = netfilter.iptables_argv(config_of(connector, IptablesConfig), "-C", net,
                                       direction, ctx.idempotency_key)
        return self._run(ctx, connector, argv, None).returncode == 0

    def run(self, ctx: ActionContext, inputs: BlockIpInputs) -> ContainmentOutputs:
        connector = ctx.connector(self.connector_types)
        if connector.type == "http":
            return self._http(ctx, connector, "block_ip", inputs)
        applied: list[str] = []
        for (argv, stdin), direction in zip(self.commands(ctx, connector, inputs),
                                            inputs.directions, strict=False):
            if connector.type == "iptables" and self._present(
                    ctx, connector, network(inputs.ip), direction):
                continue  # a retry of this very step inserted it already
            done = self._run(ctx, connector, argv, stdin)
            if done.returncode != 0:
                raise netfilter.failed(argv, done)
            applied.append(stdin if stdin is not None else " ".join(argv))
        return ContainmentOutputs(target=inputs.ip, connector=connector.name,
                                  reference=netfilter.rule_comment(ctx.idempotency_key),
                                  changed=bool(applied), applied=applied)

    def plan(self, ctx: ActionContext, inputs: BlockIpInputs) -> Plan:
        connector = ctx.connector(self.connector_types)
        if connector.type == "http":
            return self._http_plan(ctx, connector, "block_ip", inputs)
        applied = [stdin if stdin is not None else " ".join(argv)
                   for argv, stdin in self.commands(ctx, connector, inputs)]
        runs = [" ".join(argv) for argv, _ in self.commands(ctx, connector, inputs)]
        outputs = ContainmentOutputs(target=inputs.ip, connector=connector.name,
                                     reference=netfilter.rule_comment(ctx.idempotency_key),
                                     applied=applied)
        summary = f"{connector.name}: run {runs[0]}" + (
            f" with:\n{applied[0]}" if connector.type == "nftables" else "\n" + "\n".join(runs))
        return Plan(summary, [inputs.ip], outputs.model_dump(mode="json"))

    def undo_inputs(self, inputs: BlockIpInputs, outputs: ContainmentOutputs) -> dict[str, Any]:
        return {"ip": outputs.target, "direction": inputs.direction,
                "comment": inputs.comment, "reference": outputs.reference}


class UnblockIp(_FirewallAction):
    """Remove a block made by ``firewall.block_ip``; a block already gone is not an error."""

    name = "firewall.unblock_ip"
    title = "Unblock an IP address"
    Inputs = UnblockIpInputs
    undo = "firewall.block_ip"

    def commands(self, ctx: ActionContext, connector: Connector,
                 inputs: UnblockIpInputs) -> list[tuple[list[str], str | None]]:
        net = network(inputs.ip)
        if connector.type == "nftables":
            config = config_of(connector, NftablesConfig)
            return [([*config.prefix, *config.command],
                      netfilter.nft_script(config, "delete", [net], [d], ""))
                    for d in inputs.directions]
        config_ipt = config_of(connector, IptablesConfig)
        found: list[tuple[list[str], str | None]] = []
        for direction in inputs.directions:
            comments = [inputs.reference] if inputs.reference else netfilter.watchkeeper_rules(
                self._run(ctx, connector, netfilter.iptables_list_argv(
                    config_ipt, net, direction), None).stdout, net, direction)
            for comment in comments:
                argv = netfilter.iptables_argv(config_ipt, "-D", net, direction, "")
                argv[-1] = comment
                found.append((argv, None))
        return found

    def run(self, ctx: ActionContext, inputs: UnblockIpInputs) -> ContainmentOutputs:
        connector = ctx.connector(self.connector_types)
        if connector.type == "http":
            return self._http(ctx, connector, "unblock_ip", inputs)
        applied: list[str] = []
        for argv, stdin in self.commands(ctx, connector, inputs):
            done = self._run(ctx, connector, argv, stdin)
            if done.returncode != 0:
                if any(text in done.stderr for text in _GONE):
                    continue
                raise netfilter.failed(argv, done)
            applied.append(stdin if stdin is not None else " ".join(argv))
        return ContainmentOutputs(target=inputs.ip, connector=connector.name,
                                  reference=inputs.reference, changed=bool(applied),
                                  applied=applied)

    def plan(self, ctx: ActionContext, inputs: UnblockIpInputs) -> Plan:
        connector = ctx.connector(self.connector_types)
        if connector.type == "http":
            return self._http_plan(ctx, connector, "unblock_ip", inputs)
        commands = self.commands(ctx, connector, inputs)
        applied = [stdin if stdin is not None else " ".join(argv) for argv, stdin in commands]
        outputs = ContainmentOutputs(target=inputs.ip, connector=connector.name,
                                     reference=inputs.reference, applied=applied)
        return Plan(f"{connector.name}: " + ("\n".join(applied) or "nothing to remove"),
                    [inputs.ip], outputs.model_dump(mode="json"))

    def undo_inputs(self, inputs: UnblockIpInputs, outputs: ContainmentOutputs
                    ) -> dict[str, Any]:
        return {"ip": inputs.ip, "direction": inputs.direction, "comment": inputs.comment}


class DomainInputs(ActionInputs):
    domain: str
    """A DNS name; internationalized names are IDNA-encoded."""
    comment: str = Field("", max_length=200)
    """Why; sent as ``{comment}``."""
    reference: str = Field("", max_length=200)
    """For an unblock: the block's ``reference``."""

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        return domain(value)


class _DomainAction(HttpOperationAction[DomainInputs, ContainmentOutputs]):
    kind: ClassVar[ActionKind] = ActionKind.CONTAINMENT
    Inputs = DomainInputs
    Outputs = ContainmentOutputs

    def targets(self, inputs: DomainInputs) -> list[str]:
        return [inputs.domain]

    def outputs(self, ctx: ActionContext, connector: Connector, inputs: DomainInputs,
                result: httpapi.Result, request: httpapi.Prepared) -> ContainmentOutputs:
        reference = str(result.outputs.get("reference") or inputs.reference
                        or ctx.idempotency_key)
        return ContainmentOutputs(target=inputs.domain, reference=reference,
                                  connector=connector.name, applied=[request.describe()])

    def assumed(self, ctx: ActionContext, connector: Connector, inputs: DomainInputs,
                request: httpapi.Prepared) -> dict[str, Any]:
        return ContainmentOutputs(target=inputs.domain, reference=ctx.idempotency_key,
                                  connector=connector.name,
                                  applied=[request.describe()]).model_dump(mode="json")

    def undo_inputs(self, inputs: DomainInputs, outputs: ContainmentOutputs) -> dict[str, Any]:
        return {"domain": inputs.domain, "comment": inputs.comment,
                "reference": outputs.reference}


class BlockDomain(_DomainAction):
    """Block a domain (DNS firewall, proxy, secure web gateway): operation ``block_domain``."""

    name = "firewall.block_domain"
    title = "Block a domain"
    operation = "block_domain"
    undo = "firewall.unblock_domain"


class UnblockDomain(_DomainAction):
    """Lift a domain block: operation ``unblock_domain``."""

    name = "firewall.unblock_domain"
    title = "Unblock a domain"
    operation = "unblock_domain"
    undo = "firewall.block_domain"

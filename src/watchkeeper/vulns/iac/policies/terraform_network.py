"""Terraform: inbound rules that let the whole internet reach administration or every port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from watchkeeper.vulns.iac.hcl import Block
from watchkeeper.vulns.iac.model import Policy, Target, Violation
from watchkeeper.vulns.iac.terraform import Resource, as_list, truthy
from watchkeeper.vulns.model import Severity

ANYWHERE = frozenset({"0.0.0.0/0", "::/0", "*", "internet", "any"})
ADMIN_PORTS = {22: "SSH", 3389: "RDP"}
ALL = (0, 65535)


@dataclass(frozen=True)
class Opening:
    """Ports one rule opens to any address, and the line that opens them."""

    line: int
    ports: list[tuple[int, int]]
    source: str


def _is_anywhere(values: Any) -> str | None:
    for value in as_list(values):
        if isinstance(value, str) and value.strip().lower() in ANYWHERE:
            return value
    return None


def _port(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _range_text(text: Any) -> tuple[int, int] | None:
    """``"22"``, ``"1000-2000"`` or ``"*"`` as a port range; None when computed."""
    if not isinstance(text, str | int):
        return None
    text = str(text).strip()
    if text == "*":
        return ALL
    low, _, high = text.partition("-")
    if low.isdigit() and (not high or high.isdigit()):
        return int(low), int(high or low)
    return None


def _aws_ports(block: Block, protocol_key: str) -> list[tuple[int, int]]:
    protocol = str(block.get(protocol_key, "")).lower()
    if protocol in ("-1", "all"):
        return [ALL]
    low, high = _port(block.get("from_port")), _port(block.get("to_port"))
    if low is None or high is None:
        return []
    return [(low, high)]


def _aws_rule(block: Block, protocol_key: str) -> Iterator[Opening]:
    for name in ("cidr_blocks", "ipv6_cidr_blocks", "cidr_ipv4", "cidr_ipv6"):
        source = _is_anywhere(block.get(name))
        if source is not None:
            yield Opening(block.line_of(name), _aws_ports(block, protocol_key), source)


def _azure_rule(block: Block) -> Iterator[Opening]:
    if str(block.get("direction", "")).lower() != "inbound":
        return
    if str(block.get("access", "")).lower() != "allow":
        return
    for name in ("source_address_prefix", "source_address_prefixes"):
        source = _is_anywhere(block.get(name))
        if source is None:
            continue
        texts = [*as_list(block.get("destination_port_range")),
                 *as_list(block.get("destination_port_ranges"))]
        ports = [r for r in map(_range_text, texts) if r is not None]
        yield Opening(block.line_of(name), ports, source)


def _google_rule(block: Block) -> Iterator[Opening]:
    if str(block.get("direction", "INGRESS")).upper() != "INGRESS":
        return
    if truthy(block.get("disabled")) is True:
        return
    source = _is_anywhere(block.get("source_ranges"))
    if source is None:
        return
    ports: list[tuple[int, int]] = []
    for allow in block.children("allow"):
        listed = as_list(allow.get("ports"))
        if str(allow.get("protocol", "")).lower() == "all" or not listed:
            ports.append(ALL)
        ports.extend(r for r in map(_range_text, listed) if r is not None)
    yield Opening(block.line_of("source_ranges"), ports, source)


def openings(resource: Resource) -> Iterator[Opening]:
    block = resource.block
    if resource.type == "aws_security_group":
        for ingress in block.children("ingress"):
            yield from _aws_rule(ingress, "protocol")
    elif resource.type == "aws_security_group_rule":
        if block.get("type") == "ingress":
            yield from _aws_rule(block, "protocol")
    elif resource.type == "aws_vpc_security_group_ingress_rule":
        yield from _aws_rule(block, "ip_protocol")
    elif resource.type == "azurerm_network_security_rule":
        yield from _azure_rule(block)
    elif resource.type == "azurerm_network_security_group":
        for rule in block.children("security_rule"):
            yield from _azure_rule(rule)
    elif resource.type == "google_compute_firewall":
        yield from _google_rule(block)


def check_admin_ports(resource: Resource) -> Iterator[Violation]:
    for opening in openings(resource):
        if ALL in opening.ports:
            continue  # reported once, by the all-ports policy
        named = [f"{port} ({name})" for port, name in ADMIN_PORTS.items()
                 if any(low <= port <= high for low, high in opening.ports)]
        if named:
            yield Violation(opening.line,
                            f"port {' and '.join(named)} open to {opening.source}")


def check_all_ports(resource: Resource) -> Iterator[Violation]:
    for opening in openings(resource):
        if ALL in opening.ports:
            yield Violation(opening.line, f"every port open to {opening.source}")


KINDS = ("aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule",
         "azurerm_network_security_rule", "azurerm_network_security_group",
         "google_compute_firewall")

POLICIES: tuple[Policy[Resource], ...] = (
    Policy(
        "WK-TF-020", "SSH or RDP open to the internet", Severity.HIGH, Target.TERRAFORM, KINDS,
        "An inbound rule from 0.0.0.0/0, ::/0, * or Internet whose port range includes 22 "
        "or 3389 (AWS ingress and ingress rules, Azure security rules, GCP firewalls).",
        "Allow administration only from known ranges (a VPN or bastion), or use a session "
        "manager (AWS SSM, Azure Bastion, GCP IAP) and close the port.",
        check_admin_ports,
    ),
    Policy(
        "WK-TF-021", "Every port open to the internet", Severity.CRITICAL, Target.TERRAFORM,
        KINDS,
        "An inbound rule from any address allowing all protocols or ports 0-65535 (AWS "
        "protocol -1, Azure port *, a GCP allow block with protocol all or no ports).",
        "Open only the ports the service needs, to the ranges that need them.",
        check_all_ports,
    ),
)

"""The ``nftables`` and ``iptables`` connector types: a firewall on a host, driven by its CLI.

Rules are text built from addresses that :mod:`ipaddress` has parsed, and a comment made
of a safe alphabet, so no input can add to a rule. The command runs without a shell, with a
timeout, behind an optional prefix (``["sudo"]``, ``["ssh", "fw1"]``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import shlex
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from watchkeeper.response.actions.base import ActionFailed
from watchkeeper.response.adapters.common import ConnectorConfig

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Direction = Literal["inbound", "outbound"]
_IDENT = r"^[A-Za-z][A-Za-z0-9_]{0,31}$"
_SAFE = re.compile(r"[^A-Za-z0-9_.:-]")


class NftablesConfig(ConnectorConfig):
    family: Literal["inet", "ip", "ip6"] = "inet"
    table: str = Field("watchkeeper", pattern=_IDENT)
    set_prefix: str = Field("blocked", pattern=_IDENT)
    """Sets are ``<prefix>_in_v4``, ``<prefix>_in_v6``, ``<prefix>_out_v4``, ``<prefix>_out_v6``."""
    create: bool = True
    """Declare the table, sets and drop rules in every script (idempotent)."""
    command: list[str] = Field(default_factory=lambda: ["nft", "-f", "-"], min_length=1)
    prefix: list[str] = Field(default_factory=list)


class IptablesConfig(ConnectorConfig):
    command: list[str] = Field(default_factory=lambda: ["iptables"], min_length=1)
    command_v6: list[str] = Field(default_factory=lambda: ["ip6tables"], min_length=1)
    prefix: list[str] = Field(default_factory=list)
    chain_in: str = Field("INPUT", pattern=_IDENT)
    chain_out: str = Field("OUTPUT", pattern=_IDENT)


def rule_comment(key: str) -> str:
    """``watchkeeper:<key>``, the key reduced to a safe alphabet (hashed when it is not)."""
    if _SAFE.search(key) or len(key) > 100:
        key = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"watchkeeper:{key}"


def _set_name(config: NftablesConfig, direction: Direction, network: Network) -> str:
    return f"{config.set_prefix}_{'in' if direction == 'inbound' else 'out'}_v{network.version}"


def _check_family(config: NftablesConfig, network: Network) -> None:
    if (config.family, network.version) in (("ip", 6), ("ip6", 4)):
        raise ActionFailed(f"an nftables {config.family} table cannot hold {network}",
                           retryable=False)


def nft_bootstrap(config: NftablesConfig) -> str:
    """The table, its four sets and the chains that drop what they hold."""
    lines = [f"add table {config.family} {config.table}"]
    versions = {"inet": (4, 6), "ip": (4,), "ip6": (6,)}[config.family]
    for hook, direction, field in (("input", "in", "saddr"), ("output", "out", "daddr")):
        chain = f"{config.family} {config.table} {direction}bound"
        lines.append(f"add chain {chain} {{ type filter hook {hook} priority -10; "
                     "policy accept; }")
        lines.append(f"flush chain {chain}")
        for version in versions:
            name = f"{config.set_prefix}_{direction}_v{version}"
            kind = "ipv4_addr" if version == 4 else "ipv6_addr"
            lines.append(f"add set {config.family} {config.table} {name} "
                         f"{{ type {kind}; flags interval, timeout; }}")
            match = "ip" if version == 4 else "ip6"
            lines.append(f"add rule {chain} {match} {field} @{name} drop")
    return "\n".join(lines) + "\n"


def nft_script(config: NftablesConfig, verb: Literal["add", "delete"],
               networks: Sequence[Network], directions: Sequence[Direction],
               comment: str, ttl_s: float | None = None) -> str:
    """The script that adds (or deletes) ``networks`` to the sets of ``directions``."""
    lines = [nft_bootstrap(config).rstrip("\n")] if config.create and verb == "add" else []
    for direction in directions:
        for network in networks:
            _check_family(config, network)
            element = str(network) if network.num_addresses > 1 else str(network.network_address)
            if verb == "add":
                if ttl_s:
                    element += f" timeout {max(1, round(ttl_s))}s"
                element += f' comment "{rule_comment(comment)}"' if comment else ""
            name = _set_name(config, direction, network)
            lines.append(f"{verb} element {config.family} {config.table} {name} {{ {element} }}")
    return "\n".join(lines) + "\n"


def iptables_argv(config: IptablesConfig, verb: Literal["-I", "-D", "-C"], network: Network,
                  direction: Direction, comment: str) -> list[str]:
    """The full argv (prefix, command, rule) for one address and direction."""
    command = config.command if network.version == 4 else config.command_v6
    chain, side = ((config.chain_in, "-s") if direction == "inbound"
                   else (config.chain_out, "-d"))
    address = str(network.network_address) if network.num_addresses == 1 else str(network)
    return [*config.prefix, *command, verb, chain, side, address, "-j", "DROP",
            "-m", "comment", "--comment", rule_comment(comment)]


def iptables_list_argv(config: IptablesConfig, network: Network, direction: Direction
                       ) -> list[str]:
    command = config.command if network.version == 4 else config.command_v6
    chain = config.chain_in if direction == "inbound" else config.chain_out
    return [*config.prefix, *command, "-S", chain]


def watchkeeper_rules(listing: str, network: Network, direction: Direction) -> list[str]:
    """The comments of Watchkeeper's drop rules for ``network`` in an ``iptables -S`` listing."""
    side = "-s" if direction == "inbound" else "-d"
    found = []
    for line in listing.splitlines():
        words = shlex.split(line)
        pairs = dict(zip(words, [*words[1:], ""], strict=True))
        if (pairs.get(side) in (str(network), f"{network.network_address}")
                and pairs.get("-j") == "DROP"
                and pairs.get("--comment", "").startswith("watchkeeper:")):
            found.append(pairs["--comment"])
    return found


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


Runner = Callable[[Sequence[str], str | None, float], Completed]
"""argv, standard input and timeout → the finished process."""


def run_command(argv: Sequence[str], stdin: str | None, timeout_s: float) -> Completed:
    """Run ``argv`` (no shell); a timeout or a missing program is ActionFailed."""
    try:
        done = subprocess.run(list(argv), input=stdin, capture_output=True, text=True,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise ActionFailed(f"{argv[0]} did not finish within {timeout_s:g}s") from None
    except OSError as exc:
        raise ActionFailed(f"cannot run {argv[0]!r}: {exc.strerror}", retryable=False) from None
    return Completed(done.returncode, done.stdout, done.stderr)


def failed(argv: Sequence[str], done: Completed) -> ActionFailed:
    detail = (done.stderr or done.stdout).strip().splitlines()
    first = detail[0][:300] if detail else "no message"
    return ActionFailed(f"{argv[0]} exited with status {done.returncode}: {first}",
                        retryable=False)

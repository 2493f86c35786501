"""nftables and iptables: the exact rule text, applied through a recording command and, where
nft and network namespaces are at hand, on a real (throw-away) firewall."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.response.conftest import FakeContext
from watchkeeper.response.actions import default_actions
from watchkeeper.response.actions._support import network
from watchkeeper.response.actions.base import ActionFailed, Connector
from watchkeeper.response.adapters.netfilter import (
    NftablesConfig,
    nft_script,
    watchkeeper_rules,
)

registry = default_actions(entry_points=False)
BLOCK = registry.get("firewall.block_ip")
UNBLOCK = registry.get("firewall.unblock_ip")

RECORDER = """\
import json, os, sys
log = os.environ["WK_RECORD"]
with open(log, "a") as out:
    out.write(json.dumps({"argv": sys.argv[1:], "stdin": sys.stdin.read()}) + "\\n")
code = os.environ.get("WK_EXIT", "0")
sys.stderr.write(os.environ.get("WK_STDERR", ""))
sys.stdout.write(os.environ.get("WK_STDOUT", ""))
sys.exit(int(code))
"""


@pytest.fixture
def recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    script = tmp_path / "fake-fw.py"
    script.write_text(RECORDER)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("WK_RECORD", str(log))
    return script


def calls(tmp_path: Path) -> list[dict[str, Any]]:
    log = tmp_path / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_nft_golden_text() -> None:
    config = NftablesConfig(table="wk", set_prefix="deny", create=False)
    text = nft_script(config, "add", [network("203.0.113.7"), network("2001:db8::/48")],
                      ["inbound", "outbound"], "run-7.step-block", ttl_s=3600)
    assert text == (
        'add element inet wk deny_in_v4 { 203.0.113.7 timeout 3600s '
        'comment "watchkeeper:run-7.step-block" }\n'
        'add element inet wk deny_in_v6 { 2001:db8::/48 timeout 3600s '
        'comment "watchkeeper:run-7.step-block" }\n'
        'add element inet wk deny_out_v4 { 203.0.113.7 timeout 3600s '
        'comment "watchkeeper:run-7.step-block" }\n'
        'add element inet wk deny_out_v6 { 2001:db8::/48 timeout 3600s '
        'comment "watchkeeper:run-7.step-block" }\n')
    assert nft_script(config, "delete", [network("203.0.113.7")], ["inbound"], "") == (
        "delete element inet wk deny_in_v4 { 203.0.113.7 }\n")


def test_nft_bootstrap_declares_table_sets_and_drop_rules() -> None:
    text = nft_script(NftablesConfig(), "add", [network("198.51.100.1")], ["inbound"], "k")
    assert text.splitlines()[:6] == [
        "add table inet watchkeeper",
        "add chain inet watchkeeper inbound { type filter hook input priority -10; "
        "policy accept; }",
        "flush chain inet watchkeeper inbound",
        "add set inet watchkeeper blocked_in_v4 { type ipv4_addr; flags interval, timeout; }",
        "add rule inet watchkeeper inbound ip saddr @blocked_in_v4 drop",
        "add set inet watchkeeper blocked_in_v6 { type ipv6_addr; flags interval, timeout; }",
    ]
    assert text.endswith('add element inet watchkeeper blocked_in_v4 { 198.51.100.1 '
                         'comment "watchkeeper:k" }\n')


def test_a_hostile_key_cannot_reach_the_rule_text() -> None:
    text = nft_script(NftablesConfig(create=False), "add", [network("198.51.100.1")],
                      ["inbound"], 'x" } ; flush ruleset ; #')
    assert "flush ruleset" not in text
    assert text.count('"') == 2


def test_iptables_golden_argv_and_dry_run() -> None:
    connector = Connector("fw1", "iptables", {"prefix": ["sudo", "-n"]})
    plan = BLOCK.plan(FakeContext(connector), BLOCK.Inputs.model_validate(
        {"ip": "203.0.113.7", "direction": "both"}))
    assert plan.summary.splitlines()[1:] == [
        "sudo -n iptables -I INPUT -s 203.0.113.7 -j DROP -m comment --comment "
        "watchkeeper:run-7.step-block",
        "sudo -n iptables -I OUTPUT -d 203.0.113.7 -j DROP -m comment --comment "
        "watchkeeper:run-7.step-block",
    ]
    plan6 = BLOCK.plan(FakeContext(connector), BLOCK.Inputs.model_validate({"ip": "2001:db8::5"}))
    assert "sudo -n ip6tables -I INPUT -s 2001:db8::5 -j DROP" in plan6.summary


def test_nft_dry_run_shows_the_script() -> None:
    connector = Connector("fw1", "nftables", {"create": False, "prefix": ["ssh", "fw1"]})
    ctx = FakeContext(connector, ttl_s=900)
    plan = BLOCK.plan(ctx, BLOCK.Inputs.model_validate({"ip": "203.0.113.9"}))
    assert plan.summary == (
        "fw1: run ssh fw1 nft -f - with:\nadd element inet watchkeeper blocked_in_v4 "
        '{ 203.0.113.9 timeout 900s comment "watchkeeper:run-7.step-block" }\n')
    assert plan.targets == ["203.0.113.9"]


def test_nft_block_and_unblock_through_a_recording_command(recorder: Path,
                                                          tmp_path: Path) -> None:
    connector = Connector("fw1", "nftables", {"create": False,
                                              "command": [sys.executable, str(recorder), "-f",
                                                          "-"]})
    ctx = FakeContext(connector, ttl_s=60)
    inputs = BLOCK.Inputs.model_validate({"ip": "203.0.113.0/24"})
    out = BLOCK.run(ctx, inputs)
    assert out.reference == "watchkeeper:run-7.step-block"
    (call,) = calls(tmp_path)
    assert call["argv"] == ["-f", "-"]
    assert call["stdin"] == ('add element inet watchkeeper blocked_in_v4 { 203.0.113.0/24 '
                             'timeout 60s comment "watchkeeper:run-7.step-block" }\n')
    UNBLOCK.run(ctx, UNBLOCK.Inputs.model_validate(BLOCK.undo_inputs(inputs, out)))
    assert calls(tmp_path)[1]["stdin"] == (
        "delete element inet watchkeeper blocked_in_v4 { 203.0.113.0/24 }\n")


def test_iptables_block_is_inserted_once(recorder: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    connector = Connector("fw1", "iptables", {"command": [sys.executable, str(recorder)]})
    ctx = FakeContext(connector)
    inputs = BLOCK.Inputs.model_validate({"ip": "198.51.100.4"})
    monkeypatch.setenv("WK_EXIT", "1")  # -C: no such rule yet
    assert BLOCK.before(ctx, inputs) == {"present": {"inbound": False}}
    monkeypatch.setenv("WK_EXIT", "0")  # now every call succeeds: -C finds the rule
    out = BLOCK.run(ctx, inputs)
    assert out.changed is False, "a retry finds its own rule and inserts nothing"
    verbs = [c["argv"][0] for c in calls(tmp_path)]
    assert verbs == ["-C", "-C"]


def test_iptables_unblock_without_reference_finds_watchkeeper_rules(
        recorder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    listing = ("-P INPUT ACCEPT\n"
               '-A INPUT -s 198.51.100.4/32 -m comment --comment "watchkeeper:a1" -j DROP\n'
               "-A INPUT -s 198.51.100.4/32 -j DROP\n"
               '-A INPUT -s 198.51.100.5/32 -m comment --comment "watchkeeper:b2" -j DROP\n')
    assert watchkeeper_rules(listing, network("198.51.100.4"), "inbound") == ["watchkeeper:a1"]
    connector = Connector("fw1", "iptables", {"command": [sys.executable, str(recorder)]})
    monkeypatch.setenv("WK_STDOUT", listing)
    out = UNBLOCK.run(FakeContext(connector), UNBLOCK.Inputs.model_validate(
        {"ip": "198.51.100.4"}))
    assert [c["argv"] for c in calls(tmp_path)] == [
        ["-S", "INPUT"],
        ["-D", "INPUT", "-s", "198.51.100.4", "-j", "DROP", "-m", "comment", "--comment",
         "watchkeeper:a1"]]
    assert out.changed is True


def test_a_failing_command_is_reported(recorder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    connector = Connector("fw1", "nftables", {"command": [sys.executable, str(recorder)]})
    monkeypatch.setenv("WK_EXIT", "1")
    monkeypatch.setenv("WK_STDERR", "Error: Could not process rule: Operation not permitted\n")
    with pytest.raises(ActionFailed, match="exited with status 1: Error: Could not process"
                       ) as caught:
        BLOCK.run(FakeContext(connector), BLOCK.Inputs.model_validate({"ip": "203.0.113.7"}))
    assert caught.value.retryable is False


def test_a_missing_command_and_a_hung_one(tmp_path: Path) -> None:
    missing = Connector("fw1", "iptables", {"command": [str(tmp_path / "no-such-iptables")]})
    with pytest.raises(ActionFailed, match="cannot run"):
        BLOCK.run(FakeContext(missing), BLOCK.Inputs.model_validate({"ip": "203.0.113.7"}))
    hung = Connector("fw1", "nftables", {"command": [sys.executable, "-c",
                                                     "import time; time.sleep(30)"]})
    with pytest.raises(ActionFailed, match=r"did not finish within 0\.5s") as caught:
        BLOCK.run(FakeContext(hung, timeout_s=0.5),
                  BLOCK.Inputs.model_validate({"ip": "203.0.113.7"}))
    assert caught.value.retryable is True


def test_family_mismatch_is_refused() -> None:
    connector = Connector("fw1", "nftables", {"family": "ip"})
    with pytest.raises(ActionFailed, match="cannot hold 2001:db8::1"):
        BLOCK.plan(FakeContext(connector), BLOCK.Inputs.model_validate({"ip": "2001:db8::1"}))


def _namespace_unavailable() -> str | None:
    if shutil.which("nft") is None or shutil.which("nsenter") is None:
        return "nft or nsenter is not installed (apt-get install nftables)"
    if os.geteuid() != 0:
        return "needs root to make a network namespace"
    probe = subprocess.run(["unshare", "-n", "nft", "list", "ruleset"], capture_output=True,
                           check=False)
    if probe.returncode != 0:
        return f"cannot run nft in a new network namespace: {probe.stderr.decode()[:200]}"
    return None


@pytest.fixture
def namespace() -> Iterator[list[str]]:
    """The prefix that runs a command in a fresh network namespace, removed afterwards."""
    reason = _namespace_unavailable()
    if reason and os.environ.get("WATCHKEEPER_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (WATCHKEEPER_REQUIRE_SERVICES=1)", pytrace=False)
    if reason:
        pytest.skip(reason)
    holder = subprocess.Popen(["unshare", "-n", "sleep", "120"])
    try:
        for _ in range(50):
            own = os.readlink("/proc/self/ns/net")
            if os.readlink(f"/proc/{holder.pid}/ns/net") != own:
                break
            subprocess.run(["sleep", "0.02"], check=True)
        yield ["nsenter", "-t", str(holder.pid), "-n"]
    finally:
        holder.kill()
        holder.wait()


def test_a_real_set_element_is_added_and_removed(namespace: list[str]) -> None:
    connector = Connector("fw1", "nftables", {"prefix": namespace})
    ctx = FakeContext(connector, ttl_s=600)
    inputs = BLOCK.Inputs.model_validate({"ip": "203.0.113.0/24", "direction": "both"})
    out = BLOCK.run(ctx, inputs)

    def listed(name: str) -> str:
        return subprocess.run([*namespace, "nft", "list", "set", "inet", "watchkeeper", name],
                              capture_output=True, text=True, check=True).stdout

    assert "203.0.113.0/24 timeout 10m" in listed("blocked_in_v4")
    assert 'comment "watchkeeper:run-7.step-block"' in listed("blocked_out_v4")
    ruleset = subprocess.run([*namespace, "nft", "list", "ruleset"], capture_output=True,
                             text=True, check=True).stdout
    assert "ip saddr @blocked_in_v4 drop" in ruleset
    BLOCK.run(ctx, inputs)  # a retry changes nothing and does not fail
    assert listed("blocked_in_v4").count("203.0.113.0/24") == 1
    undo = UNBLOCK.run(ctx, UNBLOCK.Inputs.model_validate(BLOCK.undo_inputs(inputs, out)))
    assert undo.changed is True
    assert "203.0.113.0/24" not in listed("blocked_in_v4") + listed("blocked_out_v4")
    again = UNBLOCK.run(ctx, UNBLOCK.Inputs.model_validate(BLOCK.undo_inputs(inputs, out)))
    assert again.changed is False, "removing what is gone is not an error"

"""Response automation end to end, on a real ``watchkeeper serve`` process: an ingested
event becomes an alert, the alert starts a playbook, a person approves through the API, a
block is sent to a firewall API (a fake one on loopback, which the connector is allowed to
reach), and the block is rolled back when its TTL runs out. A second test kills the server
with SIGKILL in the middle of the firewall call: after the restart the run finishes and the
firewall has acted once."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.server.serverproc import ServerProcess, ndjson, prepared, wait_for

ATTACKER = "203.0.113.66"
RULE_TITLE = "Failed network logon (playbook test)"
RULE = f"""
title: {RULE_TITLE}
id: {uuid.UUID(int=0x5eed_0001)}
status: test
level: high
tags: [attack.credential-access, attack.t1110]
logsource: {{product: windows, service: security}}
detection:
    selection: {{EventID: 4625}}
    condition: selection
"""
PLAYBOOK = f"""
name: block-failed-logon-source
title: Block the source of a failed network logon
triggers:
  - alert: {{rules: ["{RULE_TITLE}"], where: {{source_ip: "*"}}}}
steps:
  - id: approve
    approval:
      prompt: "Block {{{{ trigger.alert.entities.source_ip }}}}?"
      approvers: {{roles: [responder]}}
      timeout: 1h
  - id: block
    action: firewall.block_ip
    connector: edge-firewall
    with:
      ip: "{{{{ trigger.alert.entities.source_ip }}}}"
      comment: "alert {{{{ trigger.alert.id }}}}"
    ttl: 4s
    timeout: 20s
  - id: open
    case: {{title: "Blocked {{{{ trigger.alert.entities.source_ip }}}}", severity: high}}
"""


class Firewall:
    """A firewall API on 127.0.0.1 that records every request and acts once per
    ``Idempotency-Key``; ``delay_s`` holds its answer to a block."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.blocked: set[str] = set()
        self.acted: list[tuple[str, str]] = []
        self.keys: set[str] = set()
        self.delay_s = 0.0
        self.received = threading.Event()
        firewall = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                key = self.headers.get("Idempotency-Key", "")
                firewall.requests.append({"method": "POST", "path": self.path,
                                          "body": body, "key": key})
                firewall.received.set()
                if firewall.delay_s:
                    time.sleep(firewall.delay_s)
                if key not in firewall.keys:
                    firewall.keys.add(key)
                    firewall.blocked.add(body["ip"])
                    firewall.acted.append(("block", body["ip"]))
                self._answer(201, {"rule": {"id": f"r-{body['ip']}"}})

            def do_DELETE(self) -> None:
                key = self.headers.get("Idempotency-Key", "")
                ip = self.path.rsplit("/", 1)[-1]
                firewall.requests.append({"method": "DELETE", "path": self.path,
                                          "body": None, "key": key})
                if key not in firewall.keys:
                    firewall.keys.add(key)
                    firewall.blocked.discard(ip)
                    firewall.acted.append(("unblock", ip))
                self._answer(200, {})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def firewall() -> Iterator[Firewall]:
    made = Firewall()
    yield made
    made.close()


@pytest.fixture
def server(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "failed_logon.yml").write_text(RULE, encoding="utf-8")
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    (playbooks / "block.yml").write_text(PLAYBOOK, encoding="utf-8")
    process = ServerProcess.create(tmp_path / "server", prepared(tmp_path_factory))
    process.settings["rules"] = {"paths": [*process.settings["rules"]["paths"], str(rules)]}
    process.settings["response"] = {
        "playbooks": [str(playbooks)], "builtin_playbooks": False, "worker_interval_s": 0.2,
        "dispatch_interval_s": 0.2, "containment_check_interval_s": 0.5, "lease_s": 10}
    try:
        yield process
    finally:
        process.cleanup()


def configure_firewall(server: ServerProcess, firewall: Firewall) -> None:
    connector = {
        "type": "http", "allow_private": True,
        "config": {"base_url": f"http://127.0.0.1:{firewall.port}", "operations": {
            "block_ip": {"method": "POST", "path": "/blocks",
                         "body": {"ip": "{ip}", "comment": "{comment}"},
                         "outputs": {"reference": "rule.id"}},
            "unblock_ip": {"method": "DELETE", "path": "/blocks/{ip}"}}}}
    with server.client(server.api_token) as client:
        answer = client.put("/api/v1/connectors/edge-firewall", json=connector)
    assert answer.status_code == 200, answer.text


def failed_logon() -> bytes:
    return ndjson([{"@timestamp": datetime.now(UTC).isoformat(), "EventID": 4625,
                    "Channel": "Security", "Computer": "dc-e2e", "TargetUserName": "admin",
                    "LogonType": "3", "IpAddress": ATTACKER}])


def the_run(server: ServerProcess) -> dict[str, Any]:
    runs = server.get("/api/v1/playbook-runs", playbook="block-failed-logon-source")["runs"]
    assert len(runs) <= 1, runs
    return dict(runs[0]) if runs else {}


def approve(server: ServerProcess) -> dict[str, Any]:
    run = wait_for(lambda: the_run(server), lambda r: r.get("status") == "waiting", 30.0)
    [approval] = server.get("/api/v1/approvals", run_id=run["id"])
    assert approval["prompt"] == f"Block {ATTACKER}?"
    with server.client(server.api_token) as client:
        answer = client.post(f"/api/v1/approvals/{approval['id']}/decision",
                             json={"decision": "approve", "comment": "seen in the SIEM"})
    assert answer.status_code == 200, answer.text
    return run


def audit_actions(server: ServerProcess) -> list[tuple[str, str, str | None]]:
    """The audit log, oldest first."""
    entries = server.get("/api/v1/audit", limit=1000)
    rows = entries["entries"] if isinstance(entries, dict) else entries
    return [(e["action"], e["actor"], e.get("object_type"))
            for e in sorted(rows, key=lambda e: int(e["id"]))]


def test_an_alert_is_contained_after_approval_and_released_when_the_ttl_runs_out(
        server: ServerProcess, firewall: Firewall) -> None:
    server.start()
    configure_firewall(server, firewall)
    server.ingest(failed_logon(), "winlog-json")
    run = approve(server)
    done = wait_for(lambda: the_run(server), lambda r: r.get("status") == "succeeded", 30.0)
    assert done["path"] == ["approve", "block", "open"]
    [block] = [r for r in firewall.requests if r["method"] == "POST"]
    assert block["path"] == "/blocks"
    assert block["body"] == {"ip": ATTACKER, "comment": f"alert {run['alert_id']}"}
    assert block["key"] == f"run:{run['id']}:block"
    [held] = server.get("/api/v1/containment")
    assert held["status"] == "active"
    assert held["target"] == ATTACKER
    assert held["case_id"] == done["case_id"]
    released = wait_for(lambda: server.get("/api/v1/containment")[0],
                        lambda c: c["status"] == "rolled_back", 30.0)
    assert released["rolled_back_by"] == "system:ttl"
    assert firewall.acted == [("block", ATTACKER), ("unblock", ATTACKER)]
    assert firewall.blocked == set()
    [unblock] = [r for r in firewall.requests if r["method"] == "DELETE"]
    assert unblock["path"] == f"/blocks/{ATTACKER}"
    assert unblock["key"] == f"rollback:{held['id']}"
    record = audit_actions(server)
    for expected in [("connector.put", "admin", "connector"),
                     ("playbook_run.start", "system:dispatcher", "playbook_run"),
                     ("approval.request", "playbook:block-failed-logon-source", "approval"),
                     ("approval.decide", "admin", "approval"),
                     ("playbook_run.act", "playbook:block-failed-logon-source",
                      "playbook_run"),
                     ("containment.apply", "playbook:block-failed-logon-source",
                      "containment"),
                     ("containment.rollback", "system:ttl", "containment")]:
        assert expected in record, expected
    decided = record.index(("approval.decide", "admin", "approval"))
    acted = record.index(("playbook_run.act", "playbook:block-failed-logon-source",
                          "playbook_run"))
    assert decided < acted, "the block came before the approval"


def test_a_restart_in_the_middle_of_the_firewall_call_does_not_block_twice(
        server: ServerProcess, firewall: Firewall) -> None:
    server.start()
    configure_firewall(server, firewall)
    firewall.delay_s = 3.0
    server.ingest(failed_logon(), "winlog-json")
    run = approve(server)
    assert firewall.received.wait(30.0), "the block was never sent"
    server.kill()  # SIGKILL while the firewall holds its answer
    firewall.delay_s = 0.0
    server.start()
    done = wait_for(lambda: the_run(server), lambda r: r.get("status") == "succeeded", 60.0)
    assert done["id"] == run["id"]
    posts = [r for r in firewall.requests if r["method"] == "POST"]
    assert len(posts) == 2
    assert {r["key"] for r in posts} == {f"run:{run['id']}:block"}
    assert [a for a in firewall.acted if a[0] == "block"] == [("block", ATTACKER)]
    assert len(server.get("/api/v1/containment")) == 1
    cases = server.get("/api/v1/cases")
    listed = cases["cases"] if isinstance(cases, dict) else cases
    assert [c["title"] for c in listed] == [f"Blocked {ATTACKER}"]

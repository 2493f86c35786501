"""``watchkeeper playbook run|runs|show``, ``containment`` and ``connector`` against a real
data folder, with a firewall API on 127.0.0.1 standing in for the real one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.response.conftest import ApiServer, Reply
from watchkeeper.audit.model import AuditEntry
from watchkeeper.audit.service import AuditLog
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Role, permissions_for
from watchkeeper.cases.service import NewCase
from watchkeeper.cli.main import cli, register
from watchkeeper.config import load_settings
from watchkeeper.response.service import Response, open_response
from watchkeeper.server.stores import open_state_db

register()

CONFIRM = """\
name: confirm-case
title: Confirm, then open a case
triggers:
  - manual: {}
inputs:
  reason: {type: string, required: true}
steps:
  - id: confirm
    approval:
      prompt: "Open a case ({{ inputs.reason }})?"
      approvers: {roles: [analyst, responder]}
      timeout: 4h
  - id: open
    case: {title: "{{ inputs.reason }}", severity: high}
  - id: tell
    notify: {role: responder, message: "Case {{ steps.open.case_id }} opened"}
"""

BLOCK = """\
name: block-ip
title: Block an address
triggers:
  - manual: {}
inputs:
  ip: {type: string, required: true}
  confirm: {type: boolean, default: true}
steps:
  - id: approve
    when: inputs.confirm
    approval:
      prompt: "Block {{ inputs.ip }}?"
      approvers: {roles: [responder]}
  - id: block
    action: firewall.block_ip
    connector: fw
    with: {ip: "{{ inputs.ip }}", comment: reported}
    ttl: 24h
"""

OPERATIONS = {
    "block_ip": {"method": "POST", "path": "/rules", "body": {"source": "{ip}"},
                 "outputs": {"reference": "rule.id"}},
    "unblock_ip": {"method": "DELETE", "path": "/rules/{reference}"},
}
SECRET = "s3cr3t-t0ken-value"


@dataclass
class Folder:
    config: Path

    def run(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        # wide enough that rich wraps neither tables nor error lines
        result = CliRunner().invoke(cli, [*args[:2], "-c", str(self.config), *args[2:]],
                                    env={"COLUMNS": "200", **(env or {})})
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    def json(self, *args: str) -> Any:
        code, out, err = self.run(*args, "--json")
        assert code == 0, err
        return json.loads(out)

    @contextmanager
    def response(self) -> Iterator[Response]:
        settings = load_settings(self.config)
        db = open_state_db(settings)
        try:
            yield open_response(settings, db, AuditLog(db))
        finally:
            db.close()

    def audit(self) -> list[str]:
        """Every audit entry, serialized."""
        db = open_state_db(load_settings(self.config))
        try:
            with db.read() as session:
                rows = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
                return [json.dumps([r.actor, r.action, r.object_id, r.before, r.after],
                                   default=str) for r in rows]
        finally:
            db.close()

    def connector(self, api: ApiServer, *extra: str) -> None:
        config = {"base_url": api.url, "operations": OPERATIONS}
        code, _, err = self.run("connector", "set", "fw", "--type", "http",
                                "--config-json", json.dumps(config), *extra)
        assert code == 0, err


@pytest.fixture
def folder(tmp_path: Path) -> Folder:
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    (playbooks / "confirm.yml").write_text(CONFIRM)
    (playbooks / "block.yml").write_text(BLOCK)
    config = tmp_path / "watchkeeper.toml"
    config.write_text(f'data_dir = "{(tmp_path / "data").as_posix()}"\n\n[response]\n'
                      f'playbooks = ["{playbooks.as_posix()}"]\nbuiltin_playbooks = false\n')
    return Folder(config)


@pytest.fixture
def api() -> Iterator[ApiServer]:
    server = ApiServer()
    server.routes[("POST", "/rules")] = Reply(201, {"rule": {"id": "r-7"}})
    yield server
    server.close()


def responder(name: str = "rita") -> Principal:
    return Principal(user_id=None, username=name, role=Role.RESPONDER,
                     permissions=permissions_for(Role.RESPONDER), via="password")


def approve_and_work(folder: Folder, run_id: int) -> None:
    with folder.response() as response:
        [approval] = response.approvals.find(status="pending", run_id=run_id)
        response.approvals.decide(responder(), approval["id"], "approve", "go",
                                  datetime.now(UTC))
        response.runs.work()


# playbook run, runs, show ---------------------------------------------------------------------

def test_a_run_waits_on_its_approval_and_says_who_may_decide(folder: Folder) -> None:
    code, out, err = folder.run("playbook", "run", "confirm-case", "--input",
                                "reason=42", "--as", "alice")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "run 1 of confirm-case: waiting"
    assert lines[1] == "path: (no step finished yet)"
    assert lines[2].startswith("waiting for approval 1 (until ")
    assert lines[2].endswith("): Open a case (42)?")  # a string input keeps its text
    assert lines[3] == "  may decide: role analyst or role responder"
    [run] = folder.json("playbook", "runs")["runs"]
    assert (run["status"], run["started_by"], run["inputs"]) == (
        "waiting", "alice", {"reason": "42"})


def test_show_lists_steps_and_approvals_and_a_decided_run_goes_on(folder: Folder) -> None:
    folder.run("playbook", "run", "confirm-case", "--inputs-json", '{"reason": "odd login"}')
    approve_and_work(folder, 1)
    shown = folder.json("playbook", "show", "1")
    assert shown["status"] == "succeeded"
    assert [s["step_id"] for s in shown["steps"]] == ["confirm", "open", "tell"]
    assert shown["approvals"][0]["outcome"] == "approved"
    code, out, _ = folder.run("playbook", "show", "1")
    assert code == 0
    assert out.startswith("run 1 of confirm-case: succeeded\npath: confirm → open → tell\n")
    assert "started by cli (manual)" in out
    assert "approvals" in out


def test_dry_run_prints_the_blast_radius_and_stores_nothing(folder: Folder,
                                                            api: ApiServer) -> None:
    folder.connector(api, "--allow-private")
    code, out, err = folder.run("playbook", "run", "block-ip", "--input", "ip=203.0.113.7",
                                "--dry-run")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "dry run of block-ip: succeeded (nothing was done)"
    assert "1. approve: approval" in lines
    assert "2. block: containment firewall.block_ip" in lines
    assert f"   fw: POST {api.url}/rules {{\"source\": \"203.0.113.7\"}}" in lines
    assert "   targets: 203.0.113.7" in lines
    assert lines[-1] == "blast radius: 203.0.113.7"
    assert api.requests == []
    assert folder.json("playbook", "runs")["total"] == 0
    assert folder.json("containment", "list", "--status", "all")["containments"] == []


def test_a_missing_required_input_is_a_usage_error(folder: Folder) -> None:
    code, _, err = folder.run("playbook", "run", "confirm-case")
    assert code == 2
    assert "inputs.reason: required" in err
    assert folder.json("playbook", "runs")["total"] == 0


def test_input_values_must_be_key_value_and_playbooks_must_exist(folder: Folder) -> None:
    code, _, err = folder.run("playbook", "run", "confirm-case", "--input", "reason")
    assert (code, "--input takes KEY=VALUE, not 'reason'" in err) == (2, True)
    code, _, err = folder.run("playbook", "run", "no-such-playbook")
    assert code == 2
    assert "no-such-playbook" in err
    for dry in ((), ("--dry-run",)):
        code, _, err = folder.run("playbook", "run", "confirm-case", "--input", "reason=x",
                                  "--case", "999", *dry)
        assert code == 2
        assert "999" in err


# containment --------------------------------------------------------------------------------

def test_a_block_is_listed_and_rolled_back_through_the_api(folder: Folder,
                                                           api: ApiServer) -> None:
    folder.connector(api, "--allow-private")
    code, out, err = folder.run("playbook", "run", "block-ip", "--input", "ip=203.0.113.7")
    assert (code, out.splitlines()[0]) == (0, "run 1 of block-ip: waiting"), err
    approve_and_work(folder, 1)
    assert [(r.method, r.path, r.json()) for r in api.requests] == [
        ("POST", "/rules", {"source": "203.0.113.7"})]
    [entry] = folder.json("containment", "list")["containments"]
    assert (entry["action"], entry["target"], entry["status"], entry["run_id"]) == (
        "firewall.block_ip", "203.0.113.7", "active", 1)
    assert entry["expires_at"] is not None
    code, out, _ = folder.run("containment", "list")
    assert code == 0
    assert "203.0.113.7" in out
    assert "firewall.block_ip" in out

    code, out, err = folder.run("containment", "rollback", str(entry["id"]), "--reason",
                                "false positive", "--as", "bob")
    assert code == 0, err
    assert out == f"containment {entry['id']} (firewall.block_ip 203.0.113.7): rolled_back\n"
    assert (api.requests[-1].method, api.requests[-1].path) == ("DELETE", "/rules/r-7")
    assert folder.json("containment", "list")["containments"] == []
    [done] = folder.json("containment", "list", "--status", "rolled_back")["containments"]
    assert done["rolled_back_by"] == "bob"
    code, _, err = folder.run("containment", "rollback", str(entry["id"]))
    assert code == 2
    assert "is rolled_back" in err


def test_a_failed_undo_exits_one_with_the_error(folder: Folder, api: ApiServer) -> None:
    folder.connector(api, "--allow-private")
    code, out, _ = folder.run("playbook", "run", "block-ip", "--input", "ip=198.51.100.9",
                              "--input", "confirm=false")  # JSON: the approval is skipped
    assert (code, out.splitlines()[0]) == (0, "run 1 of block-ip: succeeded")
    api.routes[("DELETE", "/rules/r-7")] = Reply(403, {"error": "read-only"})
    code, out, _ = folder.run("containment", "rollback", "1")
    assert code == 1
    assert out.splitlines()[0] == "containment 1 (firewall.block_ip 198.51.100.9): " \
                                  "rollback_failed"
    assert out.splitlines()[1].startswith("error: ")
    assert "403" in out
    code, out, _ = folder.run("containment", "expire")
    assert (code, out) == (0, "0 expired entries: 0 rolled back, 0 failed\n")


def test_a_run_for_a_case_files_its_containment_under_it(folder: Folder,
                                                         api: ApiServer) -> None:
    folder.connector(api, "--allow-private")
    with folder.response() as response:
        case = response.desks.cases.create("alice", NewCase(title="Scanning from outside"))
    code, _, err = folder.run("playbook", "run", "block-ip", "--input", "ip=192.0.2.44",
                              "--input", "confirm=false", "--case", str(case["id"]))
    assert code == 0, err
    [run] = folder.json("playbook", "runs", "--status", "succeeded")["runs"]
    assert run["case_id"] == case["id"]
    [entry] = folder.json("containment", "list", "--case", str(case["id"]))["containments"]
    assert entry["target"] == "192.0.2.44"
    assert folder.json("containment", "list", "--case", str(case["id"] + 1))[
        "containments"] == []


# connectors ---------------------------------------------------------------------------------

def test_a_secret_from_the_environment_is_stored_never_shown_nor_audited(
        folder: Folder, api: ApiServer) -> None:
    config = {"base_url": api.url, "auth": {"type": "bearer"}, "operations": OPERATIONS}
    code, out, err = folder.run("connector", "set", "fw", "--type", "http", "--config-json",
                                json.dumps(config), "--secret-from-env", "token=FW_TOKEN",
                                "--allow-private", env={"FW_TOKEN": SECRET})
    assert code == 0, err
    assert out == "created connector fw (http); secrets: token; allow_private: yes\n"
    assert err == ""
    listing = folder.run("connector", "list")[1] + folder.run("connector", "list", "--json")[1]
    shown = folder.run("connector", "show", "fw")[1] + folder.run("connector", "show", "fw",
                                                                  "--json")[1]
    assert "token" in listing
    assert "fw" in shown
    assert SECRET not in listing + shown
    [entry] = [e for e in folder.audit() if '"connector.put"' in e]
    assert '"token"' in entry
    assert SECRET not in "".join(folder.audit())
    with folder.response() as response:
        assert response.connectors.get("fw").secrets == {"token": SECRET}
    # the token is sent to the API
    folder.run("playbook", "run", "block-ip", "--input", "ip=203.0.113.8", "--input",
               "confirm=false")
    assert api.requests[0].headers["authorization"] == f"Bearer {SECRET}"


def test_a_secret_on_the_command_line_works_with_a_warning(folder: Folder,
                                                           api: ApiServer) -> None:
    config = {"base_url": api.url, "auth": {"type": "bearer"}}
    code, out, err = folder.run("connector", "set", "fw", "--type", "http", "--config-json",
                                json.dumps(config), "--secret", f"token={SECRET}")
    assert code == 0
    assert "shell history" in err
    assert "--secret-from-env" in err
    assert SECRET not in out + err
    # config and secrets are kept when not given again
    code, _, _ = folder.run("connector", "set", "fw", "--type", "http", "--allow-private")
    assert code == 0
    item = folder.json("connector", "show", "fw")
    assert (item["config"]["base_url"], item["secrets"], item["allow_private"]) == (
        api.url, ["token"], True)
    code, out, _ = folder.run("connector", "delete", "fw")
    assert (code, out) == (0, "deleted connector fw\n")
    assert folder.json("connector", "list")["connectors"] == []


def test_a_bad_type_names_the_known_ones(folder: Folder) -> None:
    code, _, err = folder.run("connector", "set", "fw", "--type", "telnet", "--config-json",
                              "{}")
    assert code == 2
    assert "unknown connector type 'telnet'" in err
    assert "http" in err
    assert "nftables" in err


def test_bad_connector_options_are_usage_errors(folder: Folder, tmp_path: Path) -> None:
    code, _, err = folder.run("connector", "set", "hook", "--type", "inbound-webhook",
                              "--secret-from-env", "signing_key=NOT_SET_ANYWHERE")
    assert (code, "'NOT_SET_ANYWHERE' is not set" in err) == (2, True)
    code, _, err = folder.run("connector", "set", "x", "--type", "http", "--config-json", "[1]")
    assert (code, "--config-json must be a JSON object" in err) == (2, True)
    listed = tmp_path / "list.yml"
    listed.write_text("- a\n")
    code, _, err = folder.run("connector", "set", "x", "--type", "http", "--config-file",
                              str(listed))
    assert (code, "must hold a mapping" in err) == (2, True)
    code, _, err = folder.run("connector", "show", "nope")
    assert (code, "no connector named 'nope'" in err) == (2, True)


def test_a_config_file_in_yaml(folder: Folder, api: ApiServer, tmp_path: Path) -> None:
    path = tmp_path / "fw.yml"
    path.write_text(f"base_url: {api.url}\noperations:\n  block_ip: {{path: /rules}}\n")
    code, _, err = folder.run("connector", "set", "fw", "--type", "http", "--config-file",
                              str(path))
    assert code == 0, err
    assert folder.json("connector", "show", "fw")["config"]["operations"]["block_ip"][
        "path"] == "/rules"


def test_a_private_address_without_allow_private_fails_the_run_and_sends_nothing(
        folder: Folder, api: ApiServer) -> None:
    folder.connector(api)
    assert folder.json("connector", "show", "fw")["allow_private"] is False
    code, _, _ = folder.run("playbook", "run", "block-ip", "--input", "ip=203.0.113.9")
    assert code == 0
    approve_and_work(folder, 1)
    run = folder.json("playbook", "show", "1")
    assert run["status"] == "failed"
    assert "refused to connect to 127.0.0.1: a loopback address" in run["error"]
    assert run["error_step"] == "block"
    assert api.requests == []
    # started without the approval, the failure is the command's own
    code, out, _ = folder.run("playbook", "run", "block-ip", "--input", "ip=203.0.113.9",
                              "--input", "confirm=false")
    assert code == 1
    assert out.splitlines()[0] == "run 2 of block-ip: failed"
    assert "refused to connect" in out
    assert api.requests == []
    assert folder.json("containment", "list", "--status", "all")["containments"] == []

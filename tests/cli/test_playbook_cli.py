"""``watchkeeper playbook validate``, ``list``, ``test``, ``actions`` and ``schema``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_hunt_cli import run
from watchkeeper.response.loader import builtin_sources, schema_text

GOOD = """\
name: tell-soc
title: Tell the SOC
triggers:
  - manual: {}
inputs:
  text: {required: true}
steps:
  - id: post
    action: slack.post
    connector: slack
    with: {text: "{{ inputs.text }}"}
tests:
  - name: posts the text
    inputs: {text: hello}
    mocks: {post: {status: 200}}
    expect:
      actions: [{step: post, action: slack.post, with: {text: hello}}]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_validate_a_good_file(tmp_path: Path) -> None:
    code, out, _ = run("playbook", "validate", str(write(tmp_path, "good.yml", GOOD)))
    assert code == 0
    assert out.splitlines() == ["1 files checked: 1 valid, 0 invalid"]


def test_validate_reports_invalid_yaml_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yml", "name: x\ntitle: y\nsteps:\n  - id: a\n    b: [1,\n")
    code, out, _ = run("playbook", "validate", str(path))
    assert code == 2
    first = out.splitlines()[0]
    assert first.startswith(f"{path}:6: invalid YAML")
    assert out.splitlines()[-1] == "1 files checked: 0 valid, 1 invalid"


def test_validate_names_the_place_of_an_unknown_action_and_the_known_ones(
        tmp_path: Path) -> None:
    write(tmp_path, "good.yml", GOOD)
    write(tmp_path, "unknown.yml", GOOD.replace("name: tell-soc", "name: other")
          .replace("action: slack.post", "action: slack.shout"))
    code, out, _ = run("playbook", "validate", str(tmp_path))
    assert code == 2
    [problem, summary] = out.splitlines()
    assert problem.startswith(
        f"{tmp_path / 'unknown.yml'}: steps.post.action: unknown action 'slack.shout' (known: ")
    assert "firewall.block_ip" in problem
    assert "slack.post" in problem
    assert summary == "2 files checked: 1 valid, 1 invalid"


def test_validate_lists_every_problem_of_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, "two.yml", GOOD.replace("with: {text:", "with: {colour: red, txt:"))
    code, out, _ = run("playbook", "validate", str(path))
    assert code == 2
    assert out.splitlines()[:2] == [
        f"{path}: steps.post.with.colour: slack.post has no input 'colour' (inputs: text, "
        "fields)",
        f"{path}: steps.post.with.txt: slack.post has no input 'txt' (inputs: text, fields)",
    ]


def test_list_shows_builtin_and_user_playbooks(tmp_path: Path) -> None:
    write(tmp_path, "good.yml", GOOD)
    code, out, _ = run("playbook", "list", "--path", str(tmp_path), "--json")
    assert code == 0
    listed = {p["name"]: p for p in json.loads(out)["playbooks"]}
    assert {"ransomware", "phishing", "tell-soc"} <= set(listed)
    assert listed["tell-soc"]["triggers"] == ["manual"]
    assert listed["tell-soc"]["origin"] == str(tmp_path / "good.yml")
    assert len(listed["tell-soc"]["version"]) == 12
    assert listed["ransomware"]["origin"] == "builtin:ransomware.yml"
    code, out, _ = run("playbook", "list")
    assert code == 0
    assert "ransomware" in out


def test_list_reports_a_broken_file_and_exits_2(tmp_path: Path) -> None:
    write(tmp_path, "bad.yml", "just text")
    code, out, err = run("playbook", "list", "--path", str(tmp_path))
    assert code == 2
    assert "ransomware" in out
    assert f"{tmp_path / 'bad.yml'}: a playbook is a YAML mapping" in err


def test_test_runs_the_tests_of_the_given_files(tmp_path: Path) -> None:
    write(tmp_path, "good.yml", GOOD)
    code, out, _ = run("playbook", "test", str(tmp_path), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["passed"] == 1
    assert [r["playbook"] for r in report["results"]] == ["tell-soc"]


def test_test_exits_1_when_a_test_fails(tmp_path: Path) -> None:
    write(tmp_path, "good.yml", GOOD.replace("with: {text: hello}}", "with: {text: bye}}"))
    code, out, _ = run("playbook", "test", str(tmp_path))
    assert code == 1
    assert "FAIL" in out
    assert "actions[0].with.text: expected 'bye', got 'hello'" in out
    assert "0 passed, 1 failed" in out


def test_test_runs_the_builtin_tests_by_default() -> None:
    code, out, _ = run("playbook", "test", "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["failed"] == 0
    assert {r["playbook"] for r in report["results"]} == {
        name.removesuffix(".yml") for name, _ in builtin_sources()}


def test_actions_lists_the_registry() -> None:
    code, out, _ = run("playbook", "actions", "--json")
    assert code == 0
    described = {a["name"]: a for a in json.loads(out)["actions"]}
    assert described["firewall.block_ip"]["kind"] == "containment"
    assert described["firewall.block_ip"]["undo"] == "firewall.unblock_ip"
    assert "http" in described["firewall.block_ip"]["connector_types"]
    code, out, _ = run("playbook", "actions")
    assert code == 0
    assert "indicators.extract" in out


def test_schema_prints_the_json_schema() -> None:
    code, out, _ = run("playbook", "schema")
    assert code == 0
    assert out == schema_text()


def test_the_example_playbooks_are_valid_and_pass_their_tests() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples" / "playbooks"
    code, out, err = run("playbook", "validate", str(examples))
    assert code == 0, out + err
    code, out, err = run("playbook", "test", "--no-builtin", "--json", str(examples))
    assert code == 0, out + err
    results = json.loads(out)
    listed = results["results"] if isinstance(results, dict) else results
    assert len(listed) == 2
    assert all(r["passed"] for r in listed)

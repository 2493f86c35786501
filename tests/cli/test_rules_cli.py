"""``watchkeeper rules check`` and ``rules test``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.cli.test_hunt_cli import RULES, run

BROKEN = """\
title: Broken condition
id: 11111111-2222-4333-8444-555555555555
logsource: {product: windows, category: process_creation}
detection:
  selection:
    Image|endswith: '\\\\x.exe'
  condition: selection and not missing_filter
"""
BAD_MODIFIER = """\
title: Unknown modifier
id: 11111111-2222-4333-8444-666666666666
logsource: {product: windows, category: process_creation}
detection:
  selection:
    Image|sometimes: x
  condition: selection
"""
UNROUTED = """\
title: A log nobody parses
id: 11111111-2222-4333-8444-777777777777
logsource: {product: mainframe, service: smf}
detection:
  selection:
    record: 80
  condition: selection
"""


def test_check_passes_on_good_rules() -> None:
    code, out, _ = run("rules", "check", str(RULES), "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["loaded"] == 6
    assert report["failed"] == []


def test_check_reports_each_failure_with_path_and_reason(tmp_path: Path) -> None:
    shutil.copytree(RULES, tmp_path / "rules")
    (tmp_path / "rules" / "broken.yml").write_text(BROKEN)
    (tmp_path / "rules" / "modifier.yml").write_text(BAD_MODIFIER)
    (tmp_path / "rules" / "unrouted.yml").write_text(UNROUTED)
    (tmp_path / "rules" / "not-yaml.yml").write_text("title: [unclosed\n")
    code, out, _ = run("rules", "check", str(tmp_path / "rules"), "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert report["loaded"] == 6
    failed = {Path(f["path"]).name: f for f in report["failed"]}
    assert set(failed) == {"broken.yml", "modifier.yml", "unrouted.yml", "not-yaml.yml"}
    assert "missing_filter" in failed["broken.yml"]["reason"]
    assert failed["broken.yml"]["rule_id"] == "11111111-2222-4333-8444-555555555555"
    assert "sometimes" in failed["modifier.yml"]["reason"]
    assert "no logsource mapping" in failed["unrouted.yml"]["reason"]
    assert failed["not-yaml.yml"]["rule_id"] is None


def test_check_table_output_counts(tmp_path: Path) -> None:
    (tmp_path / "broken.yml").write_text(BROKEN)
    code, out, _ = run("rules", "check", str(tmp_path))
    assert code == 1
    assert "0 of 1 rules loaded" in out


def test_rule_tests_pass_on_the_examples() -> None:
    code, out, _ = run("rules", "test", str(RULES), "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["passed"] == 15
    assert report["failed"] == []
    assert report["untested"] == []


def test_rule_test_failure_is_reported(tmp_path: Path) -> None:
    rule = RULES / "windows" / "proc_creation_whoami_discovery.yml"
    shutil.copy(rule, tmp_path / rule.name)
    (tmp_path / "proc_creation_whoami_discovery.tests.yml").write_text(
        "tests:\n"
        "  - name: notepad is not whoami\n"
        "    match: true\n"
        "    event: {Channel: Microsoft-Windows-Sysmon/Operational, EventID: 1,\n"
        "            Image: 'C:\\Windows\\notepad.exe'}\n"
    )
    (tmp_path / "untested.yml").write_text(rule.read_text())
    code, out, _ = run("rules", "test", str(tmp_path), "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert report["passed"] == 0
    assert report["failed"][0]["name"] == "notepad is not whoami"
    assert report["failed"][0]["expected"] is True
    assert report["failed"][0]["actual"] is False
    assert [Path(p).name for p in report["untested"]] == ["untested.yml"]


def test_broken_tests_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    rule = RULES / "windows" / "proc_creation_whoami_discovery.yml"
    shutil.copy(rule, tmp_path / rule.name)
    (tmp_path / "proc_creation_whoami_discovery.tests.yml").write_text("tests: 3\n")
    code, out, _ = run("rules", "test", str(tmp_path), "--format", "json")
    assert code == 1
    assert "non-empty list" in json.loads(out)["failed"][0]["error"]

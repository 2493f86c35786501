"""``watchkeeper hunt`` end to end over the bundled examples."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from watchkeeper.cli.main import cli, register

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / "examples" / "logs"
RULES = ROOT / "examples" / "rules"
WHOAMI = "5f2c5a0e-7b0e-4b57-9a55-4a4f0f7a1c01"
ENCODED = "0d6f3b8e-2a57-4c1f-a1f3-6c9b1e2d7a02"

register()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def jsonl(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_matches_in_every_example_format_and_exit_status_one() -> None:
    code, out, err = run("hunt", str(LOGS), "--rules", str(RULES), "--format", "jsonl")
    assert code == 1
    matches = jsonl(out)
    assert len(matches) == 8
    titles = {m["rule_title"] for m in matches}
    assert titles == {
        "Account Discovery With whoami",
        "PowerShell With An Encoded Command",
        "Security Audit Log Cleared",
        "SSH Password Guessing",
        "Netcat Executing A Shell",
        "CloudTrail Logging Stopped Or Deleted",
    }
    whoami = next(m for m in matches if m["rule_id"] == WHOAMI)
    assert set(whoami) >= {
        "rule_id", "rule_title", "level", "tags", "timestamp", "source", "record_id", "event"
    }
    assert whoami["level"] == "medium"
    assert whoami["tags"] == ["attack.discovery", "attack.t1033"]
    assert whoami["timestamp"] == "2026-11-02T08:15:40.515000Z"
    assert str(whoami["source"]).endswith("sysmon-and-security.jsonl")
    assert whoami["record_id"] == "52040"
    event = whoami["event"]
    assert isinstance(event, dict)
    assert event["CommandLine"] == "whoami /all"
    assert "log.file.path" not in event
    # The summary goes to stderr, so that jsonl on stdout stays clean.
    assert "hunt summary" in err


def test_no_match_exits_zero(tmp_path: Path) -> None:
    quiet = tmp_path / "quiet.jsonl"
    quiet.write_text(
        '{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", '
        '"Image": "C:\\\\Windows\\\\notepad.exe"}\n'
    )
    code, out, _ = run("hunt", str(quiet), "--rules", str(RULES), "--format", "jsonl")
    assert code == 0
    assert out == ""


def test_missing_input_is_a_usage_error() -> None:
    code, _, err = run("hunt", "/nonexistent/logs", "--rules", str(RULES))
    assert code == 2
    assert "no such file or folder: /nonexistent/logs" in err


def test_missing_rules_path_is_a_usage_error() -> None:
    code, _, err = run("hunt", str(LOGS), "--rules", "/nonexistent/rules")
    assert code == 2
    assert "rules path does not exist" in err


def test_bad_time_is_a_usage_error() -> None:
    code, _, err = run("hunt", str(LOGS), "--rules", str(RULES), "--from", "yesterday")
    assert code == 2
    assert "ISO 8601" in err


def test_min_level_and_tags_select_rules() -> None:
    _, out, _ = run(
        "hunt", str(LOGS), "--rules", str(RULES), "--format", "jsonl", "--min-level", "high"
    )
    assert {m["level"] for m in jsonl(out)} == {"high"}
    _, out, _ = run(
        "hunt", str(LOGS), "--rules", str(RULES), "--format", "jsonl", "--tags", "discovery"
    )
    assert [m["rule_id"] for m in jsonl(out)] == [WHOAMI]
    _, out, _ = run(
        "hunt", str(LOGS), "--rules", str(RULES), "--format", "jsonl", "--tags", "attack.t1059"
    )
    assert {m["rule_title"] for m in jsonl(out)} == {
        "PowerShell With An Encoded Command",
        "Netcat Executing A Shell",
    }


def test_time_range_keeps_only_events_inside_it() -> None:
    _, out, _ = run(
        "hunt", str(LOGS), "--rules", str(RULES), "--format", "jsonl",
        "--from", "2026-11-02T08:14:00Z", "--to", "2026-11-02T08:15:00Z",
    )
    assert [m["rule_id"] for m in jsonl(out)] == [ENCODED]


def test_csv_output_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "matches.csv"
    code, out, _ = run(
        "hunt", str(LOGS), "--rules", str(RULES), "--format", "csv", "--output", str(target)
    )
    assert code == 1
    assert out == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(rows) == 8
    whoami = next(r for r in rows if r["rule_id"] == WHOAMI)
    assert whoami["host"] == "ws-fin-07.corp.example"
    assert json.loads(whoami["event"])["Image"].endswith("whoami.exe")


def test_summary_reports_the_corrupt_line(tmp_path: Path) -> None:
    summary_path = tmp_path / "summary.json"
    run("hunt", str(LOGS), "--rules", str(RULES), "--format", "jsonl",
        "--summary-json", str(summary_path))
    summary = json.loads(summary_path.read_text())
    assert summary["files"] == 4
    assert summary["skipped"]["total"] == 1
    example = summary["skipped"]["examples"][0]
    assert example["location"] == "line 7"
    assert example["source"].endswith("sysmon-and-security.jsonl")
    assert summary["matches"]["total"] == 8
    assert summary["matches"]["by_level"]["high"] == 4
    assert summary["matches"]["by_tactic"]["credential-access"] == 3
    assert summary["rules"]["loaded"] == 6
    assert summary["rules"]["failed"] == []


def test_table_output_names_rule_and_host() -> None:
    code, out, _ = run("hunt", str(LOGS / "windows"), "--rules", str(RULES), "--no-summary")
    assert code == 1
    assert "Account Discovery With whoami" in out
    assert "dc-01.corp.example" in out


def test_installed_console_script_runs() -> None:
    script = Path(sys.executable).with_name("watchkeeper")
    if not script.exists():
        pytest.skip("the watchkeeper console script is not installed beside this Python")
    result = subprocess.run(
        [str(script), "hunt", str(LOGS), "--rules", str(RULES), "--format", "jsonl",
         "--no-summary"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert len(result.stdout.splitlines()) == 8


def test_exclusions_take_out_known_good_activity(tmp_path: Path) -> None:
    summary_path = tmp_path / "summary.json"
    code, out, _ = run(
        "hunt", str(LOGS), "--rules", str(RULES), "--format", "jsonl",
        "--exclusions", str(ROOT / "examples" / "exclusions.yml"),
        "--summary-json", str(summary_path),
    )
    assert code == 1
    assert WHOAMI not in {m["rule_id"] for m in jsonl(out)}
    assert len(jsonl(out)) == 7
    assert json.loads(summary_path.read_text())["rules"]["stale_exclusions"] == []


def test_broken_exclusions_file_is_a_usage_error(tmp_path: Path) -> None:
    broken = tmp_path / "exclusions.yml"
    broken.write_text("exclusions: {}\n")
    code, _, err = run("hunt", str(LOGS), "--rules", str(RULES), "--exclusions", str(broken))
    assert code == 2
    assert "exclusions" in err


def test_polars_is_not_loaded_before_the_thread_count_is_set() -> None:
    """--workers sets Polars' thread pool, which Polars sizes when it is first imported."""
    code = (
        "import sys; import watchkeeper.cli.main as m; m.register(); "
        "print('polars' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


def test_summary_groups_rules_that_did_not_load_by_reason(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    for number in range(3):
        (rules / f"mainframe{number}.yml").write_text(
            f"title: mainframe {number}\nlogsource: {{product: mainframe}}\n"
            "detection:\n  selection: {record: 80}\n  condition: selection\n"
        )
    (rules / "broken.yml").write_text("title: [unclosed\n")
    code, _, err = run("hunt", str(LOGS), "--rules", str(rules))
    assert code == 0
    assert "rules that did not load (4)" in err
    assert "no logsource mapping covers product=mainframe" in err
    assert "watchkeeper rules check" in err

"""``watchkeeper handover`` against a temporary data folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from watchkeeper.audit.service import AuditLog
from watchkeeper.cli.main import cli, register
from watchkeeper.config import load_settings
from watchkeeper.server.stores import open_state_db
from watchkeeper.shifts.service import ShiftService

register()


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    done = run("init", "--dir", str(tmp_path), "--generate-password")
    assert done.exit_code == 0, done.output
    path = tmp_path / "watchkeeper.toml"
    db = open_state_db(load_settings(path))
    try:
        ShiftService(db, AuditLog(db)).set_roster(
            "admin", [{"name": "allday", "start": "06:00", "end": "06:00"}])
    finally:
        db.close()
    return str(path)


def test_generate_print_and_list(config: str) -> None:
    made = run("handover", "--config", config, "--author", "nick")
    assert made.exit_code == 0, made.output
    assert made.output.startswith("# Handover 1: shift allday\n")
    assert "written by nick" in made.output
    assert "## Open incidents\n\nNone recorded.\n" in made.output
    as_json = run("handover", "-c", config, "--shift", "allday", "--format", "json")
    body = json.loads(as_json.output)
    assert (body["id"], body["shift"], body["author"]) == (2, "allday", "system")
    assert body["content"]["alerts"]["open"] == {"new": 0, "acknowledged": 0}
    listed = run("handover", "--list", "-c", config, "--format", "json")
    assert [h["id"] for h in json.loads(listed.output)["handovers"]] == [2, 1]
    table = run("handover", "--list", "-c", config)
    assert "2 handovers" in table.output


def test_an_unknown_shift_is_an_error(config: str) -> None:
    failed = run("handover", "-c", config, "--shift", "swing")
    assert failed.exit_code == 2
    assert "no shift 'swing' in the roster" in failed.output


def test_briefings_in_three_formats(config: str) -> None:
    daily = run("briefing", "--config", config)
    assert daily.exit_code == 0, daily.output
    assert daily.output.startswith("# Daily briefing, ")
    assert "## Cases\n\n- 0 opened, 0 resolved\n" in daily.output
    weekly = json.loads(run("briefing", "-c", config, "--kind", "weekly", "--format",
                            "json").output)
    assert weekly["kind"] == "weekly"
    assert weekly["alerts"]["critical"] == 0
    page = run("briefing", "-c", config, "--format", "html").output
    assert page.startswith("<!doctype html>")
    refused = CliRunner().invoke(cli, ["briefing", "-c", config, "--kind", "monthly"])
    assert refused.exit_code == 2

"""``watchkeeper scan``: exit codes, formats, baseline."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.cli.test_hunt_cli import run
from tests.vulns.iacfixtures import EXPECTED, REPO, SUPPRESSED

DOCS = Path(__file__).resolve().parents[2] / "docs"
CLEAN_TF = 'resource "aws_ebs_volume" "v" {\n  encrypted = true\n}\n'
LOW_ONLY = 'resource "aws_ebs_volume" "v" {\n  encrypted = true\n}\n' \
           'resource "aws_s3_bucket_public_access_block" "p" {\n  bucket = "b"\n}\n'


def test_findings_at_or_above_high_exit_1() -> None:
    code, out, _ = run("scan", str(REPO))
    assert code == 1
    assert "WK-TF-021" in out
    assert "suppressed" in out


def test_clean_folder_exits_0(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(CLEAN_TF)
    code, out, _ = run("scan", str(tmp_path))
    assert code == 0
    assert "0 findings" in out


def test_fail_on_sets_the_threshold(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(LOW_ONLY)  # one medium finding (WK-TF-003)
    assert run("scan", str(tmp_path))[0] == 0
    assert run("scan", str(tmp_path), "--fail-on", "medium")[0] == 1
    assert run("scan", str(tmp_path), "--fail-on", "critical")[0] == 0


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("scan", str(tmp_path / "missing"))[0] == 2
    assert run("scan", str(tmp_path), "--format", "xml")[0] == 2
    bad = tmp_path / "baseline.json"
    bad.write_text('{"not": "a list"}')
    code, _, err = run("scan", str(tmp_path), "--baseline", str(bad))
    assert code == 2
    assert "list of finding keys" in err
    code, _, err = run("scan", str(tmp_path), "--baseline", str(tmp_path / "absent.json"))
    assert code == 2
    assert "cannot read the baseline" in err


def test_baseline_makes_only_new_findings_fail(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    assert run("scan", str(REPO), "--write-baseline", str(baseline), "-o",
               str(tmp_path / "report.txt"))[0] == 1
    keys = json.loads(baseline.read_text())
    assert len(keys) == len(EXPECTED)
    assert keys == sorted(keys)
    assert run("scan", str(REPO), "--baseline", str(baseline))[0] == 0

    copy = tmp_path / "repo"
    copy.mkdir()
    (copy / "extra.tf").write_text(
        'resource "aws_db_instance" "new" {\n  storage_encrypted = false\n}\n')
    for sub in ("terraform", "k8s", "docker"):
        os.symlink(REPO / sub, copy / sub)
    code, out, _ = run("scan", str(copy), "--baseline", str(baseline), "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert [f["rule"] for f in report["findings"] if f["new"]] == ["WK-TF-011"]
    assert report["summary"]["new"] == 1


def json_report(*extra: str) -> dict[str, Any]:
    code, out, _ = run("scan", str(REPO), "--format", "json", *extra)
    assert code == 1
    report: dict[str, Any] = json.loads(out)
    return report


def test_json_report_follows_its_schema() -> None:
    report = json_report()
    schema = json.loads((DOCS / "scan-report.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(report, schema, cls=jsonschema.Draft202012Validator)
    assert {(f["rule"], f["location"]) for f in report["findings"]} == EXPECTED
    assert {(s["rule"], s["location"], s["reason"]) for s in report["suppressed"]} == SUPPRESSED
    assert report["summary"]["problems"] == 3
    finding = next(f for f in report["findings"] if f["rule"] == "WK-TF-010")
    assert (finding["file"], finding["line"]) == ("terraform/aws/main.tf", 64)
    assert finding["resource"] == "aws_ebs_volume.data"


def test_output_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    code, out, _ = run("scan", str(REPO), "--format", "json", "--output", str(target))
    assert code == 1
    assert out == ""
    assert json.loads(target.read_text())["summary"]["findings"] == len(EXPECTED)


def sarif_report(*extra: str) -> dict[str, Any]:
    code, out, _ = run("scan", str(REPO), "--format", "sarif", *extra)
    assert code == 1
    report: dict[str, Any] = json.loads(out)
    return report


def test_sarif_structure() -> None:
    sarif = sarif_report()
    assert sarif["version"] == "2.1.0"
    (run_,) = sarif["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "watchkeeper"
    rules = driver["rules"]
    ids = [rule["id"] for rule in rules]
    assert ids == sorted(ids)
    assert "WK-TF-001" in ids
    for rule in rules:
        assert rule["shortDescription"]["text"]
        assert "Fix:" in rule["help"]["text"]
        assert 0.0 <= float(rule["properties"]["security-severity"]) <= 10.0
    results = run_["results"]
    active = [r for r in results if "suppressions" not in r]
    assert len(active) == len(EXPECTED)
    for result in results:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert physical["region"]["startLine"] >= 1
        assert len(result["partialFingerprints"]["watchkeeperFindingKey/v1"]) == 64
    found = {(r["ruleId"],
              f'{r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]}:'
              f'{r["locations"][0]["physicalLocation"]["region"]["startLine"]}')
             for r in active}
    assert found == EXPECTED
    suppressed = [r for r in results if "suppressions" in r]
    assert {s["suppressions"][0]["kind"] for s in suppressed} == {"inSource"}
    notifications = run_["invocations"][0]["toolExecutionNotifications"]
    assert len(notifications) == 3


def test_sarif_baseline_state(tmp_path: Path) -> None:
    baseline = tmp_path / "b.json"
    baseline.write_text(json.dumps([]) + "\n")
    run("scan", str(REPO), "--write-baseline", str(baseline), "-o", str(tmp_path / "r"))
    code, out, _ = run("scan", str(REPO), "--format", "sarif", "--baseline", str(baseline))
    assert code == 0
    results = json.loads(out)["runs"][0]["results"]
    assert {r.get("baselineState") for r in results if "suppressions" not in r} == {"unchanged"}
    assert all("baselineState" not in r for r in results if "suppressions" in r)


def test_sarif_validates_against_the_official_schema() -> None:
    location = os.environ.get("WATCHKEEPER_SARIF_SCHEMA")
    if not location or not Path(location).is_file():
        pytest.skip("set WATCHKEEPER_SARIF_SCHEMA to the SARIF 2.1.0 JSON Schema file "
                    "(sarif-schema-2.1.0.json from oasis-tcs/sarif-spec) to run this test")
    schema = json.loads(Path(location).read_text(encoding="utf-8"))
    jsonschema.validate(sarif_report(), schema, cls=jsonschema.Draft4Validator)


def test_dependencies_are_matched_against_an_osv_database(tmp_path: Path) -> None:
    records = Path(__file__).resolve().parents[1] / "data" / "osv" / "records"
    database = tmp_path / "osv.sqlite"
    code, _, err = run("vulns", "osv-import", str(records), "--db", str(database))
    assert code == 0, err
    assert "imported" in err
    tree = tmp_path / "service"
    tree.mkdir()
    (tree / "requirements.txt").write_text("AccessControl==5.1\nrequests>=2\n")
    code, out, err = run("scan", str(tree), "--format", "json", "--osv-db", str(database),
                         "--fail-on", "medium")
    assert code == 1, err
    report = json.loads(out)
    found = {(f["rule"], f["location"]) for f in report["findings"]}
    assert ("PYSEC-2021-335", "requirements.txt") in found
    assert any("requests" in p["message"] or "requirements.txt" in p["location"]
               for p in report["problems"])
    baseline = tmp_path / "baseline.json"
    run("scan", str(tree), "--osv-db", str(database), "--write-baseline", str(baseline))
    code, _, _ = run("scan", str(tree), "--osv-db", str(database), "--baseline", str(baseline),
                     "--fail-on", "low")
    assert code == 0
    (tree / "requirements.txt").write_text("AccessControl==5.2\n")
    code, out, _ = run("scan", str(tree), "--format", "json", "--osv-db", str(database))
    assert "PYSEC-2021-335" not in {f["rule"] for f in json.loads(out)["findings"]}


def test_an_osv_db_that_is_not_sqlite_exits_2_with_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "osv.sqlite"
    bogus.write_bytes(b"not a database at all " * 200)
    (tmp_path / "requirements.txt").write_text("requests==2.0.0\n")
    code, _, err = run("scan", str(tmp_path), "--osv-db", str(bogus))
    assert code == 2
    line = " ".join(err.split())  # the console wraps long lines
    assert line.startswith(f"error: not an OSV database: {bogus}")
    assert "Traceback" not in err

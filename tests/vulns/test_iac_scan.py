"""A scan of the test repository: exactly the expected findings, suppressions and skips."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.vulns.iacfixtures import EXPECTED, PROBLEMS, REPO, SUPPRESSED
from watchkeeper.errors import UsageError
from watchkeeper.vulns.iac import IacSource
from watchkeeper.vulns.model import Severity
from watchkeeper.vulns.scan import ScanResult, default_sources, scan


@pytest.fixture(scope="module")
def result() -> ScanResult:
    return scan(REPO, default_sources())


def test_exactly_the_expected_findings(result: ScanResult) -> None:
    assert {(f.rule, f.location) for f in result.findings} == EXPECTED


def test_clean_files_have_no_findings(result: ScanResult) -> None:
    clean = ("terraform/clean/", "k8s/clean.yaml", "docker/clean/", "k8s/settings.yml")
    assert [f.location for f in result.findings if f.location.startswith(clean)] == []


def test_suppressed_findings_keep_their_reason(result: ScanResult) -> None:
    found = {(s.finding.rule, s.finding.location, s.reason) for s in result.suppressed}
    assert found == SUPPRESSED


def test_malformed_files_are_reported_and_skipped(result: ScanResult) -> None:
    assert {p.location for p in result.problems} == PROBLEMS
    by_location = {p.location: p.message for p in result.problems}
    assert "unknown Dockerfile instruction RUNN" in by_location["docker/broken/Dockerfile:2"]
    assert by_location["terraform/broken/main.tf:3"].startswith("not valid HCL")
    assert by_location["k8s/broken.yaml:9"].startswith("not valid YAML")


def test_findings_are_misconfigurations_with_policy_metadata(result: ScanResult) -> None:
    finding = next(f for f in result.findings if f.rule == "WK-TF-011")
    assert finding.kind == "misconfiguration"
    assert finding.tool == "watchkeeper"
    assert finding.severity is Severity.HIGH
    assert finding.title == "RDS storage not encrypted"
    assert finding.description == "storage_encrypted is not set (default false)"
    assert finding.extra["resource"] == "aws_db_instance.orders"
    assert "storage_encrypted = true" in finding.extra["fix"]


def test_findings_are_sorted_most_severe_first(result: ScanResult) -> None:
    ranks = [f.severity.rank for f in result.findings]
    assert ranks == sorted(ranks, reverse=True)


def test_every_reported_rule_is_described(result: ScanResult) -> None:
    assert {f.rule for f in result.findings} <= set(result.rules)


def test_keys_do_not_depend_on_where_the_repository_is(tmp_path: Path,
                                                       result: ScanResult) -> None:
    copy = tmp_path / "elsewhere"
    shutil.copytree(REPO, copy)
    moved = scan(copy, default_sources())
    assert {f.key for f in moved.findings} == {f.key for f in result.findings}


def test_a_single_file_can_be_scanned() -> None:
    single = scan(REPO / "docker" / "app" / "Dockerfile", [IacSource()])
    assert {(f.rule, f.location) for f in single.findings} == {
        (rule, location.replace("docker/app/", ""))
        for rule, location in EXPECTED if location.startswith("docker/app/")
    }


def test_baseline_marks_known_findings(result: ScanResult) -> None:
    known = frozenset(f.key for f in result.findings if f.rule.startswith("WK-TF"))
    again = scan(REPO, default_sources(), known)
    assert {f.rule.split("-")[1] for f in again.failing(Severity.LOW)} == {"K8S", "DF", "SUP"}
    assert again.failing(Severity.CRITICAL) == []


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        scan(tmp_path / "nowhere", default_sources())


def test_skipped_directories_are_not_read(tmp_path: Path) -> None:
    (tmp_path / ".terraform" / "modules").mkdir(parents=True)
    (tmp_path / ".terraform" / "modules" / "x.tf").write_text(
        'resource "aws_ebs_volume" "v" {\n  encrypted = false\n}\n')
    assert scan(tmp_path, default_sources()).findings == []

from __future__ import annotations

import pytest

from tests.vulns.golden import SCANS, as_data, expected, load
from watchkeeper.vulns.importers import import_file, import_report
from watchkeeper.vulns.model import Severity


@pytest.mark.parametrize("name", ["image.json", "filesystem.json"])
def test_golden(name: str) -> None:
    assert as_data(load("trivy", name)) == expected("trivy", name)


def test_image_location_drops_tag_and_digest() -> None:
    result = load("trivy", "image.json")
    assert {finding.location for finding in result.findings} == {"registry.example.com/shop/api"}


def test_severity_is_trivy_label_and_cvss_of_the_severity_source_or_nvd() -> None:
    jinja = next(f for f in load("trivy", "image.json").findings if f.rule == "CVE-2024-22195")
    assert jinja.severity is Severity.MEDIUM
    assert jinja.extra["tool_severity"] == "MEDIUM"
    assert (jinja.cvss_score, jinja.extra["cvss_source"]) == (5.4, "ghsa")


def test_misconfigurations_keyed_by_resource_and_passed_checks_left_out() -> None:
    result = load("trivy", "filesystem.json")
    misconfigs = [f for f in result.findings if f.kind == "misconfiguration"]
    assert [(f.rule, f.location) for f in misconfigs] == [
        ("AVD-AWS-0089", "infra/storage.tf:aws_s3_bucket.invoices")]


def test_bad_records_are_skipped_and_the_rest_imported() -> None:
    result = load("trivy", "filesystem.json")
    assert len(result.findings) == 3
    assert result.skipped == [
        ("trivy/filesystem.json: Results[0].Vulnerabilities[1]", "the record is not an object"),
        ("trivy/filesystem.json: Results[1].Misconfigurations[2]", "missing ID"),
        ("trivy/filesystem.json: Results[3]", "a result without a Target"),
    ]


def test_invalid_json_is_one_skipped_entry() -> None:
    result = import_file(SCANS / "bad" / "truncated-trivy.json", format="trivy")
    assert result.findings == []
    [(where, reason)] = result.skipped
    assert where.endswith("truncated-trivy.json")
    assert reason.startswith("invalid JSON")


def test_another_format_is_refused() -> None:
    result = import_file(SCANS / "grype" / "image.json", format="trivy")
    assert result.findings == []
    assert result.skipped[0][1] == "not a Trivy report: no SchemaVersion and no Results"


def test_a_clean_scan_has_no_findings_and_nothing_skipped() -> None:
    result = import_report(b'{"SchemaVersion": 2, "ArtifactName": "alpine:3.19",'
                           b' "ArtifactType": "container_image"}', format="trivy")
    assert (result.findings, result.skipped) == ([], [])

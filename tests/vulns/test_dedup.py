from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from tests.vulns.golden import load
from watchkeeper.vulns.dedup import merge_findings
from watchkeeper.vulns.importers import import_report
from watchkeeper.vulns.model import Finding, Package, Severity


def finding(rule: str, *, tool: str = "trivy", aliases: tuple[str, ...] = (),
            version: str = "1.0", location: str = "app/requirements.txt",
            **changes: Any) -> Finding:
    base = Finding(kind="vulnerability", rule=rule, title=f"{rule} title",
                   severity=Severity.MEDIUM, location=location, tool=tool, aliases=aliases,
                   package=Package("PyPI", "requests", version))
    return replace(base, **changes)


def test_a_version_bump_keeps_the_key_and_the_newest_version() -> None:
    old = finding("CVE-2023-32681", version="2.28.2", fixed_in=("2.31.0",))
    new = finding("CVE-2023-32681", version="2.30.0", fixed_in=("2.31.0",))
    assert old.key == new.key
    [merged] = merge_findings([old, new])
    assert merged.package == Package("PyPI", "requests", "2.30.0")
    assert merged.key == old.key


def test_a_changed_title_or_description_keeps_the_key() -> None:
    old = finding("CVE-2023-32681", title="Proxy-Authorization leak", description="old")
    new = finding("CVE-2023-32681", title="requests: leaks Proxy-Authorization",
                  description="a longer, rewritten description")
    assert old.key == new.key
    [merged] = merge_findings([old, new])
    assert (merged.title, merged.description) == (new.title, new.description)


def test_trivy_and_grype_on_two_tags_of_one_image_merge() -> None:
    trivy = load("trivy", "image.json").findings        # scanned :2.4.1@sha256:…
    grype = load("grype", "image.json").findings        # scanned :2.4.2
    merged = merge_findings([*trivy, *grype])
    by_rule = {f.rule: f for f in merged}
    assert sorted(by_rule) == ["CVE-2022-48303", "CVE-2024-0727", "CVE-2024-22195"]
    openssl = by_rule["CVE-2024-0727"]
    assert (openssl.tool, openssl.extra["tools"]) == ("grype,trivy", ["grype", "trivy"])
    assert openssl.extra["severities"] == {"trivy": ["MEDIUM"], "grype": ["Medium"]}
    jinja = by_rule["CVE-2024-22195"]
    assert jinja.aliases == ("GHSA-h5c8-rqwp-cp95",)
    assert jinja.title == "jinja2: HTML attribute injection when passing user input as keys " \
                          "to xmlattr filter"  # Trivy's own title, not Grype's made-up one
    assert jinja.key == trivy[1].key == grype[1].key
    assert by_rule["CVE-2022-48303"].tool == "grype"


def test_ghsa_from_one_tool_and_cve_from_another_merge_through_aliases() -> None:
    ghsa = finding("GHSA-j8r2-6x86-q33q", tool="osv-scanner", fixed_in=("2.31.0",))
    cve = finding("CVE-2023-32681", tool="trivy", fixed_in=("2.31.0", "2.32.0"))
    bridge = finding("PYSEC-2023-74", tool="pip-audit",
                     aliases=("CVE-2023-32681", "GHSA-j8r2-6x86-q33q"))
    [merged] = merge_findings([ghsa, cve, bridge])
    assert merged.rule == "CVE-2023-32681"
    assert merged.aliases == ("GHSA-j8r2-6x86-q33q", "PYSEC-2023-74")
    assert merged.fixed_in == ("2.31.0", "2.32.0")
    assert merged.tool == "osv-scanner,pip-audit,trivy"
    assert merged.key == cve.key


def test_another_package_or_place_stays_apart() -> None:
    here = finding("CVE-2023-32681")
    elsewhere = finding("CVE-2023-32681", location="worker/requirements.txt")
    other = replace(here, package=Package("PyPI", "urllib3", "1.26.5"))
    assert len(merge_findings([here, elsewhere, other])) == 3


def test_cvss_decides_over_labels_and_every_label_is_kept() -> None:
    trivy = finding("CVE-1", tool="trivy", severity=Severity.LOW,
                    extra={"tool_severity": "LOW"})
    grype = finding("CVE-1", tool="grype", severity=Severity.MEDIUM, cvss_score=9.8,
                    cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                    extra={"tool_severity": "Medium"})
    [merged] = merge_findings([trivy, grype])
    assert (merged.severity, merged.cvss_score) == (Severity.CRITICAL, 9.8)
    assert merged.extra["severity_rule"] == "cvss"
    assert merged.extra["severities"] == {"trivy": ["LOW"], "grype": ["Medium"]}
    assert "tool_severity" not in merged.extra


def test_without_cvss_the_highest_label_wins() -> None:
    low = finding("CVE-1", tool="pip-audit", severity=Severity.UNKNOWN)
    high = finding("CVE-1", tool="osv-scanner", severity=Severity.HIGH)
    [merged] = merge_findings([low, high])
    assert (merged.severity, merged.extra["severity_rule"]) == (Severity.HIGH, "label")


def test_order_is_first_report_order_and_empty_input_is_empty() -> None:
    a, b = finding("CVE-2"), finding("CVE-1", location="x")
    assert [f.rule for f in merge_findings([a, b, a])] == ["CVE-2", "CVE-1"]
    assert merge_findings([]) == []


def test_misconfigurations_from_two_scans_merge_by_key() -> None:
    report = b"""{"SchemaVersion": 2, "ArtifactName": ".", "ArtifactType": "filesystem",
      "Results": [{"Target": "infra/storage.tf", "Class": "config", "Misconfigurations": [
        {"ID": "AVD-AWS-0089", "Title": "%s", "Severity": "MEDIUM", "Status": "FAIL",
         "CauseMetadata": {"Resource": "aws_s3_bucket.invoices", "StartLine": %d}}]}]}"""
    first = import_report(report % (b"S3 Bucket Logging", 12)).findings
    second = import_report(report % (b"S3 bucket has no access logging", 40)).findings
    assert first[0].key == second[0].key
    assert len(merge_findings([*first, *second])) == 1


def debian_report(severity: str, vendor: int | None, status: str = "will_not_fix") -> bytes:
    record: dict[str, Any] = {
        "VulnerabilityID": "CVE-2023-4911", "PkgName": "libc6", "InstalledVersion": "2.36-9",
        "PkgIdentifier": {"PURL": "pkg:deb/debian/libc6@2.36-9?distro=debian-12"},
        "Status": status, "SeveritySource": "debian", "Severity": severity,
        "CVSS": {"nvd": {"V3Score": 9.8,
                         "V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}}
    if vendor is not None:
        record["VendorSeverity"] = {"debian": vendor, "nvd": 4}
    return json.dumps({"SchemaVersion": 2, "ArtifactName": "shop/api:1",
                       "ArtifactType": "container_image", "Results": [{
                           "Target": "shop/api:1 (debian 12)", "Class": "os-pkgs",
                           "Type": "debian", "Vulnerabilities": [record]}]}).encode()


def test_the_distribution_rating_beats_nvd_for_os_packages() -> None:
    [trivy] = import_report(debian_report("LOW", 1), format="trivy").findings
    assert trivy.extra["vendor_severity"] == "LOW"
    assert trivy.extra["vendor_status"] == "will_not_fix"
    [merged] = merge_findings([trivy])
    assert (merged.severity, merged.extra["severity_rule"]) == (Severity.LOW, "vendor")
    assert merged.cvss_score == 9.8  # kept as data, it does not decide
    assert merged.extra["vendor_status"] == "will_not_fix"


def test_vendor_severity_wins_over_the_label_when_they_differ() -> None:
    [trivy] = import_report(debian_report("HIGH", 1, status="fixed"), format="trivy").findings
    assert "vendor_status" not in trivy.extra
    [merged] = merge_findings([trivy])
    assert merged.severity == Severity.LOW


def test_grype_distribution_feed_and_trivy_merge_on_the_vendor_rating() -> None:
    grype = import_report(json.dumps({"matches": [{
        "vulnerability": {"id": "CVE-2023-4911", "severity": "Negligible",
                          "namespace": "debian:distro:debian:12"},
        "relatedVulnerabilities": [{"id": "CVE-2023-4911", "namespace": "nvd:cpe", "cvss": [
            {"version": "3.1", "metrics": {"baseScore": 9.8}}]}],
        "artifact": {"name": "libc6", "version": "2.36-9", "type": "deb",
                     "purl": "pkg:deb/debian/libc6@2.36-9?distro=debian-12"}}],
        "source": {"type": "image", "target": {"userInput": "shop/api:1"}}}).encode(),
        format="grype").findings
    trivy = import_report(debian_report("LOW", 1), format="trivy").findings
    [merged] = merge_findings([*grype, *trivy])
    assert (merged.severity, merged.extra["severity_rule"]) == (Severity.LOW, "vendor")


def test_language_packages_still_take_the_cvss_score() -> None:
    low = finding("CVE-1", severity=Severity.LOW, cvss_score=9.8,
                  extra={"vendor_severity": "LOW"})
    [merged] = merge_findings([low])
    assert (merged.severity, merged.extra["severity_rule"]) == (Severity.CRITICAL, "cvss")

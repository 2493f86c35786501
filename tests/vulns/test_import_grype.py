from __future__ import annotations

import json

from tests.vulns.golden import as_data, expected, load
from watchkeeper.vulns.dedup import merge_findings
from watchkeeper.vulns.importers import import_report
from watchkeeper.vulns.model import Package, Severity


def test_golden() -> None:
    assert as_data(load("grype", "image.json")) == expected("grype", "image.json")


def test_related_vulnerabilities_are_aliases_and_the_key_takes_the_cve() -> None:
    jinja = next(f for f in load("grype", "image.json").findings if f.rule.startswith("GHSA"))
    assert jinja.aliases == ("CVE-2024-22195",)
    trivy_like = jinja.__class__(
        kind="vulnerability", rule="CVE-2024-22195", title="", severity=Severity.MEDIUM,
        location="registry.example.com/shop/api", tool="trivy",
        package=Package("PyPI", "jinja2", "3.1.2"))
    assert jinja.key == trivy_like.key


def test_negligible_is_info_and_the_label_is_kept() -> None:
    tar = next(f for f in load("grype", "image.json").findings if f.rule == "CVE-2022-48303")
    assert (tar.severity, tar.extra["tool_severity"]) == (Severity.INFO, "Negligible")
    assert tar.package == Package("Debian", "tar", "1.34+dfsg-1.2", "/var/lib/dpkg/status")


def test_directory_scans_locate_by_the_manifest() -> None:
    report = b"""{"matches": [{"vulnerability": {"id": "GHSA-j8r2-6x86-q33q",
        "severity": "Medium", "fix": {"versions": ["2.31.0"], "state": "fixed"}},
      "relatedVulnerabilities": [{"id": "CVE-2023-32681", "namespace": "nvd:cpe"}],
      "artifact": {"name": "requests", "version": "2.28.2", "type": "python",
        "locations": [{"path": "/services/billing/requirements.txt"}],
        "purl": "pkg:pypi/requests@2.28.2"}}],
      "source": {"type": "directory", "target": "."}}"""
    [finding] = import_report(report, format="grype").findings
    assert finding.location == "services/billing/requirements.txt"


def test_wrong_shapes_are_skipped_with_a_reason() -> None:
    result = import_report(b'{"matches": [{"vulnerability": "CVE-1"}, 7]}', format="grype")
    assert result.skipped == [("<report>: matches[0]", "vulnerability is not an object"),
                              ("<report>: matches[1]", "the match is not an object")]
    assert import_report(b"[1, 2]", format="grype").skipped == [
        ("<report>", "expected a JSON object, found list")]


ALAS = b"""{"matches": [{"vulnerability": {"id": "ALAS-2024-1900", "severity": "High",
    "namespace": "amazon:distro:amazonlinux:2", "description": "openssl: three flaws",
    "fix": {"versions": ["1.0.2k-24.amzn2"], "state": "fixed"}},
  "relatedVulnerabilities": [
    {"id": "CVE-2023-0001", "namespace": "nvd:cpe", "description": "the first flaw",
     "cvss": [{"version": "3.1", "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
               "metrics": {"baseScore": 9.8}}]},
    {"id": "CVE-2023-0002", "namespace": "nvd:cpe"},
    {"id": "CVE-2023-0003", "namespace": "nvd:cpe"}],
  "artifact": {"name": "openssl-libs", "version": "1.0.2k-22.amzn2", "type": "rpm",
    "locations": [{"path": "/var/lib/rpm/Packages"}],
    "purl": "pkg:rpm/amazon/openssl-libs@1.0.2k-22.amzn2"}}],
  "source": {"type": "image", "target": {"userInput": "shop/api:1"}},
  "distro": {"name": "amazonlinux"}}"""


def trivy_report(*cves: str) -> bytes:
    return json.dumps({"SchemaVersion": 2, "ArtifactName": "shop/api:1",
                       "ArtifactType": "container_image", "Results": [{
        "Target": "shop/api:1 (amazon 2)", "Class": "os-pkgs", "Type": "amazon",
        "Vulnerabilities": [{
            "VulnerabilityID": cve, "PkgName": "openssl-libs",
            "PkgIdentifier": {"PURL": "pkg:rpm/amazon/openssl-libs@1.0.2k-22.amzn2"},
            "InstalledVersion": "1.0.2k-22.amzn2", "Severity": "HIGH"} for cve in cves]}]}
    ).encode()


def test_an_advisory_relating_several_cves_does_not_merge_them() -> None:
    [alas] = import_report(ALAS, format="grype").findings
    assert alas.aliases == ()
    assert alas.extra["related"] == ["CVE-2023-0001", "CVE-2023-0002", "CVE-2023-0003"]
    assert alas.cvss_score is None  # the first CVE's score is not the advisory's
    assert alas.description == "openssl: three flaws"
    trivy = import_report(trivy_report("CVE-2023-0001", "CVE-2023-0002", "CVE-2023-0003"),
                          format="trivy").findings
    merged = merge_findings([*trivy, alas])
    assert sorted(f.rule for f in merged) == [
        "ALAS-2024-1900", "CVE-2023-0001", "CVE-2023-0002", "CVE-2023-0003"]
    assert len([f for f in merged if f.rule.startswith("CVE-")]) == 3
    assert all(f.aliases == () for f in merged)


def test_a_single_related_id_is_still_an_alias() -> None:
    report = json.loads(ALAS)
    del report["matches"][0]["relatedVulnerabilities"][1:]
    [alas] = import_report(json.dumps(report).encode(), format="grype").findings
    assert alas.aliases == ("CVE-2023-0001",)
    assert "related" not in alas.extra
    assert alas.cvss_score == 9.8

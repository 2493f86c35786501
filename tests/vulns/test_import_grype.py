from __future__ import annotations

from tests.vulns.golden import as_data, expected, load
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

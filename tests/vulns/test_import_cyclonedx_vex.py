from __future__ import annotations

from tests.vulns.golden import as_data, expected, load
from watchkeeper.vulns.importers import VexStatement, import_report
from watchkeeper.vulns.model import Finding, Package, Severity


def test_golden() -> None:
    assert as_data(load("cyclonedx-vex", "vex.json")) == expected("cyclonedx-vex", "vex.json")


def test_statements_not_findings() -> None:
    result = load("cyclonedx-vex", "vex.json")
    assert result.findings == []
    assert [(s.vuln_id, s.state) for s in result.vex] == [
        ("CVE-2024-22195", "not_affected"), ("CVE-2024-0727", "exploitable"),
        ("CVE-2024-0727", "exploitable"), ("CVE-2023-50782", "in_triage")]


def test_a_statement_applies_through_aliases_and_package_identity() -> None:
    statement = load("cyclonedx-vex", "vex.json").vex[0]
    grype_style = Finding(
        kind="vulnerability", rule="GHSA-h5c8-rqwp-cp95", title="", severity=Severity.MEDIUM,
        location="registry.example.com/shop/api", tool="grype",
        package=Package("PyPI", "jinja2", "3.1.3"))
    other_package = Finding(
        kind="vulnerability", rule="CVE-2024-22195", title="", severity=Severity.MEDIUM,
        location="", tool="trivy", package=Package("PyPI", "markupsafe", "2.1.3"))
    assert statement.applies_to(grype_style)
    assert not statement.applies_to(other_package)


def test_without_an_identity_a_statement_matches_the_exact_purl() -> None:
    statement = VexStatement("CVE-1", "not_affected", purl="pkg:generic/x@1", identity=None)

    def at(purl: str) -> Finding:
        return Finding(kind="vulnerability", rule="CVE-1", title="", severity=Severity.LOW,
                       location="", tool="t", package=Package("generic", "x", "1", purl=purl))

    assert statement.applies_to(at("pkg:generic/x@1"))
    assert not statement.applies_to(at("pkg:generic/x@2"))


def test_a_plain_sbom_is_not_vex() -> None:
    result = import_report(b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}')
    assert (result.vex, result.skipped) == ([], [])
    wrong = import_report(b'{"bomFormat": "SPDX"}', format="cyclonedx-vex")
    assert wrong.skipped == [("<report>", "not a CycloneDX document: no bomFormat CycloneDX")]

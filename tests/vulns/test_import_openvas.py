from __future__ import annotations

from tests.vulns.golden import SCANS, as_data, expected, load
from watchkeeper.vulns.importers import import_file, import_report
from watchkeeper.vulns.model import Severity


def test_golden() -> None:
    assert as_data(load("openvas", "report.xml")) == expected("openvas", "report.xml")


def test_network_locations_and_severity_from_the_score() -> None:
    findings = load("openvas", "report.xml").findings
    assert [(f.location, f.severity) for f in findings] == [
        ("203.0.113.24:22/tcp", Severity.HIGH),
        ("[2001:db8:10::5]:443/tcp", Severity.MEDIUM),
        ("203.0.113.24", Severity.INFO),
    ]
    assert findings[0].extra["cves"] == ["CVE-2024-6387"]


def test_external_entities_are_refused() -> None:
    result = import_file(SCANS / "bad" / "external-entity.xml", format="openvas")
    assert result.findings == []
    [(_, reason)] = result.skipped
    assert reason.startswith("refused unsafe XML")


def test_broken_xml_and_other_documents() -> None:
    assert import_report(b"<report><results>", format="openvas").skipped[0][1].startswith(
        "invalid XML")
    assert import_report(b"<nmaprun/>", format="openvas").skipped == [
        ("<report>", "not an OpenVAS report: the root is <nmaprun>")]

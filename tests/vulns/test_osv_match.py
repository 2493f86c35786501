"""Golden matching: the packages of tests/data/osv/packages.json against the records
beside them give exactly expected_findings.json."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from watchkeeper.vulns.model import Finding, Package, Severity
from watchkeeper.vulns.osv import OsvStore
from watchkeeper.vulns.versions import InvalidVersion

DATA = Path(__file__).parent.parent / "data" / "osv"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[OsvStore]:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for record in sorted((DATA / "records").glob("*.json")):
            out.write(record, record.name)
    with OsvStore(tmp_path / "osv.sqlite") as opened:
        assert opened.import_zip(archive).imported == 9
        yield opened


def _packages() -> list[Package]:
    return [Package(**item) for item in json.loads((DATA / "packages.json").read_text())]


def _summary(finding: Finding) -> dict[str, Any]:
    assert finding.package is not None
    package = finding.package
    return {
        "package": f"{package.ecosystem}/{package.name}@{package.version}",
        "location": finding.location,
        "rule": finding.rule,
        "aliases": list(finding.aliases),
        "severity": finding.severity.value,
        "cvss_score": finding.cvss_score,
        "fixed_in": list(finding.fixed_in),
    }


def test_matching_gives_exactly_the_golden_findings(store: OsvStore) -> None:
    errors: list[InvalidVersion] = []
    findings = store.match(_packages(), errors=errors)
    expected = json.loads((DATA / "expected_findings.json").read_text())
    assert [_summary(finding) for finding in findings] == expected
    assert [(str(error), error.location) for error in errors] == [
        (
            "bad/requirements.txt: invalid PyPI version 'not a version': not a PEP 440 version",
            "bad/requirements.txt",
        )
    ]


def test_finding_fields(store: OsvStore) -> None:
    package = Package("PyPI", "accesscontrol", "4.2", location="app/requirements.txt")
    (finding,) = store.match([package])
    assert finding.kind == "vulnerability"
    assert finding.tool == "watchkeeper"
    assert finding.title == "Remote code execution through the string module in restricted code"
    assert finding.severity is Severity.HIGH
    assert finding.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"
    assert finding.package == package
    assert finding.references[0].startswith("https://github.com/zopefoundation/")
    assert finding.description.startswith("Restricted code could reach")


def test_v4_vector_without_a_given_score_is_scored(store: OsvStore) -> None:
    (finding,) = store.match([Package("RubyGems", "activesupport", "7.0.0")])
    assert finding.cvss_vector == "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N"
    assert finding.cvss_score == 5.3
    assert finding.severity is Severity.MEDIUM


def test_title_falls_back_to_the_details(store: OsvStore) -> None:
    (finding,) = store.match([Package("Alpine:v3.18", "openssl", "3.1.3-r0")])
    assert finding.title == "Incorrect cipher key and IV length processing in OpenSSL."
    assert finding.fixed_in == ("3.1.4-r0",)


def test_one_finding_per_package_and_vulnerability(store: OsvStore) -> None:
    # the bare ecosystem meets both Debian releases' entries, still one finding
    findings = store.match([Package("Debian", "openssh", "1:8.0p1-1")])
    assert [(f.rule, f.fixed_in) for f in findings] == [
        ("DSA-5586-1", ("1:9.2p1-2+deb12u2", "1:8.4p1-5+deb11u3"))
    ]


def test_nothing_matches_nothing(store: OsvStore) -> None:
    assert store.match([]) == []
    assert store.match([Package("PyPI", "requests", "2.0.0")]) == []

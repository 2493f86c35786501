from __future__ import annotations

from tests.vulns.golden import as_data, expected, load
from watchkeeper.vulns.importers import import_report


def test_golden() -> None:
    assert as_data(load("pip-audit", "report.json")) == expected("pip-audit", "report.json")


def test_unaudited_dependencies_are_reported_as_skipped() -> None:
    reasons = dict(load("pip-audit", "report.json").skipped)
    assert reasons["pip-audit/report.json: dependencies[2]"].startswith("not audited:")


def test_names_are_normalized_as_pypi_does() -> None:
    names = {f.package.name for f in load("pip-audit", "report.json").findings if f.package}
    assert names == {"cryptography", "werkzeug"}


def test_the_bare_list_of_older_releases_is_read() -> None:
    report = b'[{"name": "Django", "version": "4.2.5", "vulns": [{"id": "PYSEC-2023-225",' \
             b' "fix_versions": ["4.2.7"], "aliases": ["CVE-2023-46695"]}]}]'
    [finding] = import_report(report, format="pip-audit").findings
    assert (finding.rule, finding.package and finding.package.name, finding.fixed_in) == (
        "PYSEC-2023-225", "django", ("4.2.7",))

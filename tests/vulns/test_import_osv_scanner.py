from __future__ import annotations

from tests.vulns.golden import as_data, expected, load
from watchkeeper.vulns.importers import import_report


def test_golden() -> None:
    assert as_data(load("osv-scanner", "lockfiles.json")) == expected(
        "osv-scanner", "lockfiles.json")


def test_one_finding_per_alias_group() -> None:
    pillow = [f for f in load("osv-scanner", "lockfiles.json").findings
              if f.package and f.package.name == "pillow"]
    assert len(pillow) == 1
    assert (pillow[0].rule, pillow[0].aliases) == (
        "CVE-2023-44271", ("GHSA-8ghj-p4vj-mr35", "PYSEC-2023-175"))


def test_root_makes_lockfile_paths_relative() -> None:
    result = load("osv-scanner", "lockfiles.json", root="/builds/shop/web")
    assert [f.location for f in result.findings] == [
        "package-lock.json", "package-lock.json", "api/poetry.lock"]


def test_fixed_versions_only_from_the_package_s_own_ranges() -> None:
    babel = next(f for f in load("osv-scanner", "lockfiles.json").findings
                 if f.rule == "CVE-2023-45133")
    assert babel.fixed_in == ("7.23.2",)


def test_reports_without_groups_make_one_group_per_record() -> None:
    report = b"""{"results": [{"source": {"path": "go.sum"}, "packages": [{"package":
      {"name": "golang.org/x/net", "version": "0.17.0", "ecosystem": "Go"},
      "vulnerabilities": [{"id": "GO-2024-2687", "aliases": ["CVE-2023-45288"]}]}]}]}"""
    [finding] = import_report(report, format="osv-scanner").findings
    assert (finding.rule, finding.aliases, finding.location) == (
        "CVE-2023-45288", ("GO-2024-2687",), "go.sum")

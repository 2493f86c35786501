from __future__ import annotations

from typing import ClassVar

import pytest

from tests.vulns.golden import SCANS
from watchkeeper.errors import UsageError
from watchkeeper.vulns.importers import (
    Importer,
    ImporterRegistry,
    ImportResult,
    default_registry,
    import_file,
    import_report,
)

REPORTS = [
    ("trivy", "trivy/image.json"), ("trivy", "trivy/filesystem.json"),
    ("grype", "grype/image.json"), ("osv-scanner", "osv-scanner/lockfiles.json"),
    ("pip-audit", "pip-audit/report.json"), ("sarif", "sarif/codeql.sarif"),
    ("sarif", "sarif/semgrep.sarif"), ("sarif", "sarif/checkov.sarif"),
    ("cyclonedx-vex", "cyclonedx-vex/vex.json"), ("openvas", "openvas/report.xml"),
    ("nmap", "nmap/dmz.xml"),
]


@pytest.mark.parametrize(("name", "path"), REPORTS)
def test_detection_picks_the_format(name: str, path: str) -> None:
    data = (SCANS / path).read_bytes()
    importer = default_registry().detect(data[: 64 * 1024])
    assert importer is not None
    assert importer.name == name
    assert import_report(data).findings == import_file(SCANS / path, format=name).findings


def test_unknown_content_and_empty_input_are_skipped() -> None:
    assert import_report(b'{"hello": "world"}').skipped[0][1].startswith("unknown report format")
    assert import_report(b"  \n").skipped == [("<report>", "empty report")]
    assert import_file(SCANS / "missing.json").skipped[0][1].startswith("cannot read")


def test_an_unknown_format_name_raises() -> None:
    with pytest.raises(UsageError, match="unknown report format 'nessus'"):
        import_report(b"{}", format="nessus")


class Example(Importer):
    name: ClassVar[str] = "example"

    @classmethod
    def sniff(cls, head: bytes) -> int:
        return 100 if head.startswith(b"EXAMPLE") else 0

    def load(self, data: bytes, source: str) -> ImportResult:
        return ImportResult(skipped=[(source, "nothing in it")])


def test_third_party_importers_register_by_name() -> None:
    registry = default_registry()
    registry.register(Example)
    assert "example" in registry.names()
    assert import_report(b"EXAMPLE", registry=registry).skipped == [("<report>", "nothing in it")]
    with pytest.raises(UsageError, match="two importers"):
        registry.register(type("Other", (Example,), {}))


def test_entry_points_are_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    class Entry:
        def load(self) -> type[Importer]:
            return Example

    seen: list[str] = []

    def fake_entry_points(*, group: str) -> list[Entry]:
        seen.append(group)
        return [Entry()]

    monkeypatch.setattr("watchkeeper.vulns.importers.base.entry_points", fake_entry_points)
    registry = ImporterRegistry()
    registry.load_entry_points()
    assert (seen, registry.names()) == (["watchkeeper.importers"], ["example"])


def test_every_importer_is_documented() -> None:
    doc = (SCANS.parents[2] / "docs" / "vulns-import.md").read_text()
    for name in default_registry().names():
        assert f"| `{name}` |" in doc, f"{name} is missing from docs/vulns-import.md"
        assert f"### {name}" in doc, f"{name} has no section in docs/vulns-import.md"


def test_the_bare_list_of_older_pip_audit_releases_is_detected() -> None:
    report = b'[{"name": "adal", "version": "1.2.2", "vulns": []}]'
    detected = default_registry().detect(report)
    assert detected is not None
    assert detected.name == "pip-audit"
    assert import_report(report).skipped == []

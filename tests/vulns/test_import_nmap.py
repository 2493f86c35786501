from __future__ import annotations

from tests.vulns.golden import SCANS, as_data, expected, load
from watchkeeper.vulns.importers import Asset, import_file
from watchkeeper.vulns.model import Severity


def test_golden() -> None:
    assert as_data(load("nmap", "dmz.xml")) == expected("nmap", "dmz.xml")


def test_open_ports_are_info_exposures() -> None:
    findings = load("nmap", "dmz.xml").findings
    assert {f.kind for f in findings} == {"exposure"}
    assert {f.severity for f in findings} == {Severity.INFO}
    assert [f.location for f in findings] == [
        "203.0.113.24:22/tcp", "203.0.113.24:443/tcp", "203.0.113.25:53/udp",
        "203.0.113.25:3389/tcp"]


def test_hosts_up_are_assets_with_their_best_os_match() -> None:
    assets = load("nmap", "dmz.xml").assets
    assert [a.address for a in assets] == ["203.0.113.24", "203.0.113.25"]
    bastion: Asset = assets[0]
    assert (bastion.hostnames, bastion.os) == (("bastion.example.com",), "Linux 5.0 - 5.5")
    assert [(s.port, s.state) for s in bastion.services] == [
        (22, "open"), (443, "open"), (8080, "closed")]


def test_entity_expansion_bombs_are_refused() -> None:
    result = import_file(SCANS / "bad" / "billion-laughs.xml", format="nmap")
    assert (result.findings, result.assets) == ([], [])
    [(_, reason)] = result.skipped
    assert reason == "refused unsafe XML: EntitiesForbidden"

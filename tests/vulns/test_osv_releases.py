"""Distribution releases OSV qualifies (``Ubuntu:22.04:LTS``, ``Ubuntu:Pro:…``) meet the
plain release packages are found in, either way round."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from watchkeeper.vulns.model import Package
from watchkeeper.vulns.osv import OsvStore
from watchkeeper.vulns.osv.names import ecosystems_meet
from watchkeeper.vulns.packages.purl import purl_for


def record(record_id: str, ecosystem: str) -> dict[str, Any]:
    return {"id": record_id, "modified": "2024-01-01T00:00:00Z", "affected": [{
        "package": {"ecosystem": ecosystem, "name": "openssl"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"},
                                                    {"fixed": "3.0.2-0ubuntu1.15"}]}]}]}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[OsvStore]:
    with OsvStore(tmp_path / "osv.sqlite") as opened:
        opened.import_records([record("UBUNTU-CVE-1", "Ubuntu:22.04:LTS"),
                               record("UBUNTU-CVE-2", "Ubuntu:Pro:22.04:LTS"),
                               record("UBUNTU-CVE-3", "Ubuntu:20.04:LTS"),
                               record("UBUNTU-CVE-4", "Ubuntu:22.04")])
        yield opened


@pytest.mark.parametrize("ecosystem", ["Ubuntu:22.04", "Ubuntu:22.04:LTS",
                                       "Ubuntu:Pro:22.04:LTS"])
def test_a_package_meets_the_records_of_its_release(store: OsvStore, ecosystem: str) -> None:
    package = Package(ecosystem, "openssl", "3.0.2-0ubuntu1.10", "var/lib/dpkg/status")
    found = store.match([package])
    assert sorted(f.rule for f in found) == ["UBUNTU-CVE-1", "UBUNTU-CVE-2", "UBUNTU-CVE-4"]


@pytest.mark.parametrize(("package", "entry", "meet"), [
    ("Ubuntu:22.04", "Ubuntu:22.04:LTS", True),
    ("Ubuntu:22.04:LTS", "Ubuntu:22.04", True),
    ("Ubuntu:22.04", "Ubuntu:Pro:22.04:LTS", True),
    ("Ubuntu:Pro:22.04:LTS", "Ubuntu:22.04", True),
    ("Ubuntu:22.04", "Ubuntu:20.04:LTS", False),
    ("Ubuntu:Pro:20.04:LTS", "Ubuntu:22.04", False),
    ("Ubuntu", "Ubuntu:22.04:LTS", True),
    ("Debian:12", "Debian:11", False),
])
def test_ecosystems_meet(package: str, entry: str, meet: bool) -> None:
    assert ecosystems_meet(package, entry) is meet


def test_a_purl_names_the_plain_release() -> None:
    assert purl_for("Ubuntu:Pro:22.04:LTS", "openssl", "3.0.2") == (
        "pkg:deb/ubuntu/openssl@3.0.2?distro=ubuntu-22.04")

"""A version the ecosystem's rules cannot read skips only the records that needed to read
it: a record listing the exact version still matches, and the error is reported once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from watchkeeper.vulns.model import Package
from watchkeeper.vulns.osv import OsvStore
from watchkeeper.vulns.versions import InvalidVersion

ODD = "2024.final.build-7"


def ranged(record_id: str) -> dict[str, Any]:
    return {"id": record_id, "modified": "2024-01-01T00:00:00Z", "affected": [{
        "package": {"ecosystem": "PyPI", "name": "oddpkg"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}]}


def listed(record_id: str) -> dict[str, Any]:
    return {"id": record_id, "modified": "2024-01-01T00:00:00Z", "affected": [{
        "package": {"ecosystem": "PyPI", "name": "oddpkg"}, "versions": [ODD]}]}


def test_other_records_are_still_matched_and_the_error_is_reported_once(
        tmp_path: Path) -> None:
    with OsvStore(tmp_path / "osv.sqlite") as store:
        store.import_records([ranged("OSV-A"), ranged("OSV-B"), listed("OSV-C"),
                              {**listed("OSV-D"), "affected": [
                                  ranged("x")["affected"][0], listed("x")["affected"][0]]}])
        errors: list[InvalidVersion] = []
        found = store.match([Package("PyPI", "oddpkg", ODD, "requirements.txt")],
                            errors=errors)
    assert [f.rule for f in found] == ["OSV-C", "OSV-D"]
    assert [error.location for error in errors] == ["requirements.txt"]

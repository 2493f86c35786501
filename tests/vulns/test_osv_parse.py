from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from watchkeeper.errors import InputError
from watchkeeper.vulns.osv import Event, OsvError, load_record, parse_record

RECORDS = Path(__file__).parent.parent / "data" / "osv" / "records"


def test_golden_record_into_typed_objects() -> None:
    record = load_record(RECORDS / "PYSEC-2021-335.json")
    assert record.id == "PYSEC-2021-335"
    assert record.aliases == ("CVE-2021-32807", "GHSA-qcx9-j53g-ccgf")
    assert record.schema_version == "1.6.0"
    (entry,) = record.affected
    assert entry.package is not None
    assert (entry.package.ecosystem, entry.package.name) == ("PyPI", "accesscontrol")
    assert entry.package.purl == "pkg:pypi/accesscontrol"
    git, ecosystem = entry.ranges
    assert git.type == "GIT"
    assert git.repo == "https://github.com/zopefoundation/AccessControl"
    assert ecosystem.events == (
        Event("introduced", "4.0"),
        Event("fixed", "4.3"),
        Event("introduced", "5.0"),
        Event("fixed", "5.2"),
    )
    assert entry.versions == ("4.0", "4.1", "4.2", "5.0", "5.1")
    assert entry.fixed == ("4.3", "5.2")
    assert record.severity[0].type == "CVSS_V3"
    assert record.references[0].type == "FIX"


def test_every_golden_record_loads() -> None:
    ids = sorted(load_record(path).id for path in RECORDS.glob("*.json"))
    assert len(ids) == 9
    assert all(ids)


def _minimal(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": "GHSA-xxxx-yyyy-zzzz",
        "modified": "2024-01-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": "npm", "name": "left-pad"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}],
            }
        ],
    }
    record.update(changes)
    return record


def test_unknown_fields_are_ignored() -> None:
    record = parse_record(_minimal(x_new_field=[1, 2], credits=[{"name": "someone"}]))
    assert record.id == "GHSA-xxxx-yyyy-zzzz"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([], "must be a JSON object"),
        ({"modified": "2024-01-01T00:00:00Z"}, "missing 'id'"),
        (_minimal(modified=None), "missing 'modified'"),
        (_minimal(aliases="CVE-1"), "'aliases' must be a list of strings"),
        (
            _minimal(affected=[{"package": {"ecosystem": "npm"}}]),
            "missing 'name'",
        ),
        (
            _minimal(affected=[{"ranges": [{"type": "RANGE", "events": [{"fixed": "1"}]}]}]),
            "unknown range type 'RANGE'",
        ),
        (
            _minimal(
                affected=[
                    {"ranges": [{"type": "SEMVER", "events": [{"introduced": "0", "fixed": "1"}]}]}
                ]
            ),
            "exactly one of",
        ),
        (
            _minimal(affected=[{"ranges": [{"type": "ECOSYSTEM", "events": []}]}]),
            "without events",
        ),
    ],
)
def test_broken_records_say_where_and_why(data: Any, reason: str) -> None:
    with pytest.raises(OsvError) as caught:
        parse_record(data, source="all.zip!broken.json")
    assert isinstance(caught.value, InputError)
    assert reason in str(caught.value)
    assert caught.value.location is not None
    assert caught.value.location.startswith("all.zip!broken.json")


def test_broken_record_location_names_the_id() -> None:
    with pytest.raises(OsvError) as caught:
        parse_record(_minimal(aliases=5), source="a.json")
    assert caught.value.location == "a.json: GHSA-xxxx-yyyy-zzzz"


def test_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(OsvError) as caught:
        load_record(path)
    assert caught.value.location == str(path)

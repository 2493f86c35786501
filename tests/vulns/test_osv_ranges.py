"""OSV range evaluation, one entry at a time."""

from __future__ import annotations

from typing import Any

import pytest

from watchkeeper.vulns.osv import affected, parse_record
from watchkeeper.vulns.osv.model import Affected
from watchkeeper.vulns.versions import InvalidVersion


def _entry(
    ecosystem: str, ranges: list[dict[str, Any]], versions: list[str] | None = None
) -> Affected:
    data: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": "pkg"}, "ranges": ranges}
    if versions is not None:
        data["versions"] = versions
    record = parse_record({"id": "T-1", "modified": "2024-01-01T00:00:00Z", "affected": [data]})
    return record.affected[0]


def _events(*pairs: tuple[str, str], kind: str = "ECOSYSTEM") -> list[dict[str, Any]]:
    return [{"type": kind, "events": [{k: v} for k, v in pairs]}]


CASES: list[tuple[str, list[dict[str, Any]], list[str] | None, str, bool]] = [
    # introduced "0" and fixed (exclusive)
    ("PyPI", _events(("introduced", "0"), ("fixed", "1.2")), None, "0.0.1", True),
    ("PyPI", _events(("introduced", "0"), ("fixed", "1.2")), None, "1.2rc1", True),
    ("PyPI", _events(("introduced", "0"), ("fixed", "1.2")), None, "1.2", False),
    ("PyPI", _events(("introduced", "0"), ("fixed", "1.2")), None, "1.2.post1", False),
    # introduced is inclusive
    ("PyPI", _events(("introduced", "1.0"), ("fixed", "1.2")), None, "1.0", True),
    ("PyPI", _events(("introduced", "1.0"), ("fixed", "1.2")), None, "1.0rc1", False),
    # last_affected is inclusive
    ("npm", _events(("introduced", "1.0.0"), ("last_affected", "1.4.0")), None, "1.4.0", True),
    ("npm", _events(("introduced", "1.0.0"), ("last_affected", "1.4.0")), None, "1.4.1", False),
    # no upper bound
    ("npm", _events(("introduced", "2.0.0")), None, "99.0.0", True),
    # events out of order are sorted first
    (
        "PyPI",
        _events(("fixed", "5.2"), ("introduced", "5.0"), ("fixed", "4.3"), ("introduced", "4.0")),
        None,
        "4.5",
        False,
    ),
    (
        "PyPI",
        _events(("fixed", "5.2"), ("introduced", "5.0"), ("fixed", "4.3"), ("introduced", "4.0")),
        None,
        "5.1",
        True,
    ),
    # limit: at or above it, outside the range
    (
        "crates.io",
        _events(("introduced", "0.0.0-0"), ("limit", "0.5.0"), kind="SEMVER"),
        None,
        "0.4.9",
        True,
    ),
    (
        "crates.io",
        _events(("introduced", "0.0.0-0"), ("limit", "0.5.0"), kind="SEMVER"),
        None,
        "0.5.0",
        False,
    ),
    (
        "crates.io",
        _events(("introduced", "1.0.0"), ("limit", "*"), kind="SEMVER"),
        None,
        "9.0.0",
        True,
    ),
    # SEMVER ranges for Go: events without the v, packages with it
    ("Go", _events(("introduced", "0"), ("fixed", "0.17.0"), kind="SEMVER"), None, "v0.16.0", True),
    (
        "Go",
        _events(("introduced", "0"), ("fixed", "0.17.0"), kind="SEMVER"),
        None,
        "v0.17.0",
        False,
    ),
    # GIT ranges say nothing about versions; the versions list does
    ("PyPI", _events(("introduced", "aa11"), ("fixed", "bb22"), kind="GIT"), None, "1.0", False),
    ("PyPI", _events(("introduced", "aa11"), ("fixed", "bb22"), kind="GIT"), ["1.0"], "1.0", True),
    (
        "PyPI",
        _events(("introduced", "aa11"), ("fixed", "bb22"), kind="GIT"),
        ["1.0"],
        "1.0.0",
        True,
    ),
    ("PyPI", [], ["1.0"], "1.1", False),
    ("Maven", [], ["1.0"], "1-ga", True),
    ("Debian", [], ["1.0-0"], "0:1.0", True),
    # the versions list counts even outside the ranges
    ("PyPI", _events(("introduced", "2.0")), ["1.5"], "1.5", True),
    # ecosystems with releases use their rules
    ("Debian:12", _events(("introduced", "0"), ("fixed", "1:1.0-1")), None, "2.0-1", True),
    ("Debian:12", _events(("introduced", "0"), ("fixed", "1.0-1")), None, "1.0~rc1-1", True),
    ("Alpine:v3.19", _events(("introduced", "0"), ("fixed", "1.2.3-r1")), None, "1.2.3-r0", True),
    ("Alpine:v3.19", _events(("introduced", "0"), ("fixed", "1.2.3")), None, "1.2.3_rc1", True),
    ("Alpine:v3.19", _events(("introduced", "0"), ("fixed", "1.2.3")), None, "1.2.3-r1", False),
    ("RubyGems", _events(("introduced", "7.0.0"), ("fixed", "7.0.4.3")), None, "7.0.4.2", True),
    ("Maven", _events(("introduced", "2.0"), ("fixed", "2.17.1")), None, "2.17.1-rc1", True),
    # a range whose own versions cannot be read is skipped
    ("npm", _events(("introduced", "0"), ("fixed", "not-semver")), None, "1.0.0", False),
    # an ecosystem without rules: only the versions list counts
    ("Unheard-of", _events(("introduced", "0")), ["1"], "1", True),
    ("Unheard-of", _events(("introduced", "0")), None, "1", False),
]


@pytest.mark.parametrize(("ecosystem", "ranges", "versions", "version", "expected"), CASES)
def test_range_evaluation(
    ecosystem: str,
    ranges: list[dict[str, Any]],
    versions: list[str] | None,
    version: str,
    expected: bool,
) -> None:
    assert affected(_entry(ecosystem, ranges, versions), version) is expected


def test_unreadable_package_version_is_an_error_when_ranges_would_decide() -> None:
    entry = _entry("PyPI", _events(("introduced", "0")))
    with pytest.raises(InvalidVersion):
        affected(entry, "not a version")


def test_unreadable_package_version_with_only_a_list() -> None:
    entry = _entry("PyPI", [], ["1.0"])
    assert affected(entry, "not a version") is False

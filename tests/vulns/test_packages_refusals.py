"""What is refused or reported rather than read: corrupt files, escaping links, huge files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.vulns.packagehelpers import DATA, rows
from watchkeeper.errors import UsageError
from watchkeeper.vulns.packages import Limits, extract


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file or folder"):
        extract([tmp_path / "nope"])


def test_corrupt_json_is_reported_and_the_rest_is_read(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "package-lock.json").write_text('{"packages": {')
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "Pipfile.lock").write_text('{"default": {"six": {"version": "==1.16.0"}}}')
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "composer.lock").write_text('{"packages": {"not": "a list"}}')
    assert rows(extract([tmp_path]), tmp_path) == {
        "packages": [["PyPI", "six", "1.16.0", None, "b/Pipfile.lock", "pkg:pypi/six@1.16.0"]],
        "skipped": [
            ["a/package-lock.json", "cannot read package-lock.json: Expecting property name "
                                    "enclosed in double quotes: line 1 column 15 (char 14)"],
            ["c/composer.lock", "cannot read composer.lock: packages is not a list"],
        ],
    }


def test_a_link_escaping_the_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "go.mod").write_text("module x\n\nrequire golang.org/x/text v0.14.0\n")
    root = tmp_path / "root"
    (root / "app").mkdir(parents=True)
    (root / "app" / "go.mod").symlink_to("../../outside/go.mod")
    (root / "inside.txt").write_text("")
    (root / "Cargo.lock").symlink_to(outside / "go.mod")  # absolute: stays inside the root
    assert rows(extract([root]), root) == {"packages": [], "skipped": [
        ["Cargo.lock", "cannot read Cargo.lock: no such file"],
        ["app/go.mod", "cannot read go.mod: a link points outside the root"],
    ]}


def test_absolute_links_resolve_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "usr" / "lib").mkdir(parents=True)
    (root / "lib" / "apk" / "db").mkdir(parents=True)
    (root / "usr" / "lib" / "os-release").write_text("ID=alpine\nVERSION_ID=3.18.4\n")
    (root / "etc" / "os-release").symlink_to("/usr/lib/os-release")
    (root / "lib" / "apk" / "db" / "installed").write_text("P:zlib\nV:1.3-r2\n")
    assert [p.ecosystem for p in extract([root]).packages] == ["Alpine:v3.18"]


def test_without_os_release_the_release_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "var" / "lib" / "dpkg").mkdir(parents=True)
    (tmp_path / "var" / "lib" / "dpkg" / "status").write_text(
        "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\n")
    assert rows(extract([tmp_path]), tmp_path) == {
        "packages": [["Debian", "zlib1g", "1:1.2.13.dfsg-1", None, "var/lib/dpkg/status",
                      "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1"]],
        "skipped": [["var/lib/dpkg/status",
                     "no etc/os-release beside it: the distribution release is unknown"]],
    }


def test_a_huge_file_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n" + "# padding\n" * 100)
    (tmp_path / "go.mod").write_text("module x\n")
    result = extract([tmp_path], limits=Limits(max_file_bytes=200))
    assert result.packages == []
    assert [(Path(s.location).name, s.reason) for s in result.skipped] == [
        ("requirements.txt", "cannot read requirements: too large (1012 bytes, the limit is 200)"),
    ]


def test_includes_stop_at_the_depth_limit(tmp_path: Path) -> None:
    for level in range(4):
        (tmp_path / f"requirements-{level}.txt").write_text(
            f"-r requirements-{level + 1}.txt\npkg{level}=={level}.0\n")
    (tmp_path / "requirements-4.txt").write_text("last==4.0\n")
    result = extract([tmp_path / "requirements-0.txt"], limits=Limits(max_include_depth=2))
    assert [p.name for p in result.packages] == ["pkg2", "pkg1", "pkg0"]
    assert [(Path(s.location).name, s.reason) for s in result.skipped] == [
        ("requirements-2.txt:1", "includes nested deeper than 2: requirements-3.txt")]


def test_an_include_may_not_leave_the_root(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-r ../../../../etc/passwd\n")
    result = extract([tmp_path])
    assert [s.reason for s in result.skipped] == [
        "include refused: '../../../../etc/passwd' points outside the root"]


def test_a_file_that_no_source_reads(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    assert rows(extract([notes]), tmp_path) == {
        "packages": [], "skipped": [["notes.txt", "not a known package source"]]}


def test_a_file_that_is_not_regular_is_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "yarn.lock")  # opening it would block
    assert [s.reason for s in extract([tmp_path]).skipped] == [
        "cannot read yarn.lock: not a regular file"]


def test_fixtures_are_not_written() -> None:
    before = sorted(p.stat().st_mtime_ns for p in DATA.rglob("*") if p.is_file())
    extract([DATA])
    assert sorted(p.stat().st_mtime_ns for p in DATA.rglob("*") if p.is_file()) == before


def test_xml_entities_are_refused(tmp_path: Path) -> None:
    (tmp_path / "bom.xml").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY a "aaaaaaaaaa">]>\n'
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.5"><components><component>'
        '<name>&a;</name><purl>pkg:npm/x@1.0.0</purl></component></components></bom>')
    (tmp_path / "x.cdx.xml").write_text("<bom><components>")
    result = extract([tmp_path])
    assert result.packages == []
    assert [(Path(s.location).name, s.reason.split(":")[0]) for s in result.skipped] == [
        ("bom.xml", "cannot read cyclonedx-xml"), ("x.cdx.xml", "cannot read cyclonedx-xml")]

"""The source registry: built-ins, plugins through entry points, and their documentation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from watchkeeper.errors import UsageError
from watchkeeper.vulns.model import Package
from watchkeeper.vulns.packages import (
    ENTRY_POINT_GROUP,
    PackageSource,
    SourceFile,
    builtin_sources,
    default_registry,
    extract,
)
from watchkeeper.vulns.packages import base as packages_base

DOCS = Path(__file__).parent.parent.parent / "docs" / "vulns-packages.md"


class ConanLock(PackageSource):
    name = "conan.lock"
    patterns = ("conan.lock",)

    def extract(self, file: SourceFile) -> list[Package]:
        return [file.package("ConanCenter", line.split("/")[0], line.split("/")[1])
                for line in file.read_text().split()]


class FakeEntryPoint:
    def load(self) -> Any:
        return ConanLock


@pytest.mark.parametrize(("path", "source"), [
    ("requirements.txt", "requirements"), ("a/requirements-dev.txt", "requirements"),
    ("requirements/base.txt", "requirements"), ("docs/notes.txt", None),
    ("var/lib/dpkg/status", "dpkg"), ("rootfs/var/lib/dpkg/status", "dpkg"),
    ("status", None), ("x/lib/apk/db/installed", "apk"), ("app.cdx.json", "cyclonedx-json"),
    ("image.spdx.json", "spdx-json"), ("deep/node_modules/.package-lock.json",
                                       "package-lock.json"),
    ("package.json", None),
])
def test_source_for(path: str, source: str | None) -> None:
    found = default_registry(entry_points=False).source_for(path)
    assert (found.name if found else None) == source


def test_plugins_join_through_entry_points(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    def entry_points(group: str) -> list[FakeEntryPoint]:
        return [FakeEntryPoint()] if group == ENTRY_POINT_GROUP else []

    monkeypatch.setattr(packages_base, "entry_points", entry_points)
    (tmp_path / "conan.lock").write_text("zlib/1.3\n")
    [package] = extract([tmp_path]).packages
    assert (package.ecosystem, package.name, package.version, package.purl) == (
        "ConanCenter", "zlib", "1.3", None)


def test_two_sources_of_one_name_are_refused() -> None:
    registry = default_registry(entry_points=False)

    class Other(ConanLock):
        name = "poetry.lock"

    with pytest.raises(UsageError, match="two package sources"):
        registry.register(Other)
    with pytest.raises(UsageError, match="unknown package source"):
        registry.get("nope")


def test_every_source_is_documented() -> None:
    text = DOCS.read_text()
    for source in builtin_sources():
        assert f"| `{source.name}` |" in text, source.name
        for pattern in source.patterns:
            assert f"`{pattern}`" in text, pattern


def test_the_entry_point_group_is_declared() -> None:
    pyproject = (DOCS.parent.parent / "pyproject.toml").read_text()
    assert f'[project.entry-points."{ENTRY_POINT_GROUP}"]' in pyproject

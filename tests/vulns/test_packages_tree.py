"""A small repository: several lockfiles, version-control and node_modules folders skipped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.vulns.packagehelpers import DATA, rows
from watchkeeper.vulns.packages import extract


def test_a_repository_tree(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(DATA / "repo-tree", repo)
    (repo / "expected.json").unlink()
    (repo / ".git").mkdir()
    (repo / ".git" / "Cargo.lock").write_text(
        '[[package]]\nname = "in-git"\nversion = "1.0.0"\n'
        'source = "registry+https://github.com/rust-lang/crates.io-index"\n')
    (repo / "frontend" / "node_modules" / "left-pad" / "yarn.lock").write_text("corrupt: [")
    expected = json.loads((DATA / "repo-tree" / "expected.json").read_text())
    assert rows(extract([repo]), repo) == expected


def test_the_hidden_npm_lockfile_counts_only_without_package_lock(tmp_path: Path) -> None:
    hidden = tmp_path / "node_modules" / ".package-lock.json"
    hidden.parent.mkdir()
    hidden.write_text(
        '{"lockfileVersion": 3, "packages": {"node_modules/ms": {"version": "2.1.3"}}}')
    assert [p.location for p in extract([tmp_path]).packages] == [str(hidden)]
    (tmp_path / "package-lock.json").write_text(
        '{"lockfileVersion": 3, "packages": {"node_modules/ms": {"version": "2.1.3"}}}')
    assert [p.location for p in extract([tmp_path]).packages] == [
        str(tmp_path / "package-lock.json")]


def test_several_paths_and_a_file_among_them() -> None:
    result = extract([DATA / "cargo", DATA / "gemfile" / "Gemfile.lock"])
    assert sorted({p.ecosystem for p in result.packages}) == ["RubyGems", "crates.io"]

"""Each folder of tests/data/packages is extracted and compared with its expected.json."""

from __future__ import annotations

import json

import pytest

from tests.vulns.packagehelpers import DATA, rows
from watchkeeper.vulns.packages import extract

CASES = sorted(path.parent.name for path in DATA.glob("*/expected.json"))


def test_every_fixture_folder_has_expectations() -> None:
    folders = sorted(path.name for path in DATA.iterdir() if path.is_dir())
    assert folders == CASES


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    folder = DATA / case
    expected = json.loads((folder / "expected.json").read_text())
    assert rows(extract([folder]), folder) == expected


@pytest.mark.parametrize("case", ["poetry", "npm-v3", "gomod"])
def test_a_file_given_alone_reads_as_in_its_folder(case: str) -> None:
    folder = DATA / case
    expected = json.loads((folder / "expected.json").read_text())
    name = {"poetry": "poetry.lock", "npm-v3": "package-lock.json", "gomod": "go.mod"}[case]
    assert rows(extract([folder / name]), folder) == expected


def test_packages_are_deduplicated_by_location() -> None:
    folder = DATA / "cargo"
    twice = extract([folder, folder / "Cargo.lock"])
    assert len(twice.packages) == len(extract([folder]).packages)

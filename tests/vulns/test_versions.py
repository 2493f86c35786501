"""Conformance vectors: ordered pairs (older, newer) and equal pairs, per ecosystem."""

from __future__ import annotations

import pytest

from watchkeeper.errors import InputError, UsageError
from watchkeeper.vulns.versions import (
    InvalidVersion,
    UnsupportedEcosystem,
    base_ecosystem,
    comparator,
)

OLDER_NEWER: dict[str, list[tuple[str, str]]] = {
    "PyPI": [
        ("1.0a1", "1.0"),
        ("1.0", "1.0.post1"),
        ("1.0.dev0", "1.0a1"),
        ("1.0a1", "1.0b1"),
        ("1.0b2", "1.0rc1"),
        ("1.0rc1", "1.0"),
        ("1.0", "1.0+local"),
        ("1.9", "1.10"),
        ("2.0", "1!0.1"),
        ("1.0.post1", "1.0.1"),
    ],
    "npm": [
        ("1.0.0-alpha", "1.0.0"),
        ("1.0.0-alpha", "1.0.0-alpha.1"),
        ("1.0.0-alpha.1", "1.0.0-alpha.beta"),
        ("1.0.0-alpha.beta", "1.0.0-beta"),
        ("1.0.0-beta", "1.0.0-beta.2"),
        ("1.0.0-beta.2", "1.0.0-beta.11"),
        ("1.0.0-beta.11", "1.0.0-rc.1"),
        ("1.0.0-rc.1", "1.0.0"),
        ("1.9.0", "1.10.0"),
        ("v1.2.3", "1.2.4"),
    ],
    "Go": [
        ("v0.0.0-20230101000000-abcdefabcdef", "v0.0.0"),
        ("v1.2.3", "v1.2.4"),
        ("v2.0.0+incompatible", "v2.0.1+incompatible"),
        ("v1.2.3-pre", "v1.2.3"),
    ],
    "crates.io": [("0.3.23", "0.3.24"), ("0.4.0-0", "0.4.0"), ("0.0.0-0", "0.0.0")],
    "Packagist": [
        ("1.0.0-dev", "1.0.0-alpha1"),
        ("1.0.0-alpha1", "1.0.0-beta1"),
        ("1.0.0-beta1-dev", "1.0.0-beta1"),
        ("1.0.0-beta2", "1.0.0-RC1"),
        ("1.0.0-RC1", "1.0.0"),
        ("1.0.0", "1.0.0-p1"),
        ("1.0.0", "1.0.0.1"),
        ("v2.9", "2.10"),
    ],
    "RubyGems": [
        ("1.0.a", "1.0"),
        ("1.0.0.a", "1.0.0.b"),
        ("1.0-rc1", "1.0"),
        ("1.0.b1", "1.0.b2"),
        ("1.0.a10", "1.0.b1"),
        ("1.0", "1.0.0.1"),
        ("1.9", "1.10"),
        ("7.0.4.2", "7.0.4.3"),
        ("1.a.0.b", "1.a"),
        ("1.a", "1.a.0.1"),
        ("0.9", "1.0.a"),
    ],
    "Debian": [
        ("1.0~rc1", "1.0"),
        ("1.0~~", "1.0~"),
        ("1.0~", "1.0"),
        ("1.0", "1.0a"),
        ("1.0a", "1.0+"),
        ("1.0", "1.0.1"),
        ("2.0", "1:0.9"),
        ("1.0-1", "1.0-2"),
        ("1.0-9", "1.0-10"),
        ("1:9.2p1-2+deb12u1", "1:9.2p1-2+deb12u2"),
        ("1.2.3-1ubuntu1", "1.2.3-1ubuntu1.1"),
        ("1.0-1~bpo11+1", "1.0-1"),
        ("1.0", "1.0-0.1"),
    ],
    "Alpine": [
        ("1.2.3_rc1", "1.2.3"),
        ("1.2.3", "1.2.3-r1"),
        ("1.2.3_alpha", "1.2.3_beta"),
        ("1.2.3_beta2", "1.2.3_pre1"),
        ("1.2.3_pre1", "1.2.3_rc1"),
        ("1.2.3", "1.2.3_p1"),
        ("1.2.3_p1", "1.2.3_p2"),
        ("1.2.3", "1.2.3a"),
        ("1.2.3a", "1.2.4"),
        ("1.2a", "1.2.1"),
        ("1.2", "1.2.1"),
        ("1.01", "1.1"),
        ("3.1.4-r0", "3.1.4-r1"),
        ("3.0.9-r0", "3.1.0_rc1"),
        ("1.2.3_rc1-r5", "1.2.3"),
    ],
    "Maven": [
        ("1.0-alpha1", "1.0-beta1"),
        ("1.0-beta1", "1.0-milestone1"),
        ("1.0-milestone1", "1.0-rc1"),
        ("1.0-rc1", "1.0-SNAPSHOT"),
        ("1.0-SNAPSHOT", "1.0"),
        ("1.0", "1.0-sp1"),
        ("1.0-sp1", "1.0-xyz"),
        ("1.0-xyz", "1.0.1"),
        ("1.0-a1", "1.0-b1"),
        ("1.9", "1.10"),
        ("2.0-rc1", "2.0-rc2"),
    ],
}

EQUAL: dict[str, list[tuple[str, str]]] = {
    "PyPI": [("1.0", "1.0.0"), ("1.0-rc1", "1.0rc1"), ("1.0.POST1", "1.0.post1")],
    "npm": [("1.0.0+build.1", "1.0.0+build.2"), ("v1.0.0", "1.0.0")],
    "Go": [("v1.2.3+incompatible", "v1.2.3")],
    "Packagist": [("v2.1", "2.1.0.0"), ("1.0.0-rc1", "1.0.0-RC1")],
    "RubyGems": [("1.0", "1"), ("1.0.0", "1"), ("1.0.a", "1.a")],
    "Debian": [("1.0", "1.0-0"), ("0:1.0", "1.0"), ("1.00", "1.0")],
    "Alpine": [("1.2.3", "1.2.3")],
    "Maven": [
        ("1.0", "1"),
        ("1-ga", "1"),
        ("1.0-final", "1"),
        ("1-1", "1.0-1"),
        ("1.0-CR1", "1.0-rc1"),
    ],
}

INVALID: dict[str, list[str]] = {
    "PyPI": ["not a version", "1.0-foo-bar"],
    "npm": ["1.0", "1.0.0-", "01.0.0", "1.0.0-01"],
    "Go": ["1.2", "v1.2"],
    "crates.io": ["v1.0.0"],
    "Packagist": ["dev-master", "1.0.0-foo"],
    "RubyGems": ["1..0", "a1.0", "1.0 beta"],
    "Debian": ["abc", "x:1.0", "1.0-rev!"],
    "Alpine": ["r1", "1.2.3_bogus", "1.2.3-1", "1.2.3-r1.2"],
    "Maven": [""],
}


def _pairs(table: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str, str]]:
    return [(eco, a, b) for eco, pairs in table.items() for a, b in pairs]


@pytest.mark.parametrize(("ecosystem", "older", "newer"), _pairs(OLDER_NEWER))
def test_order(ecosystem: str, older: str, newer: str) -> None:
    rules = comparator(ecosystem)
    assert rules.compare(older, newer) == -1
    assert rules.compare(newer, older) == 1
    assert rules.key(older) < rules.key(newer)


@pytest.mark.parametrize(("ecosystem", "a", "b"), _pairs(EQUAL))
def test_equal(ecosystem: str, a: str, b: str) -> None:
    assert comparator(ecosystem).compare(a, b) == 0
    assert comparator(ecosystem).compare(b, a) == 0


@pytest.mark.parametrize(
    ("ecosystem", "version"), [(eco, v) for eco, vs in INVALID.items() for v in vs]
)
def test_invalid(ecosystem: str, version: str) -> None:
    with pytest.raises(InvalidVersion) as caught:
        comparator(ecosystem).key(version)
    assert isinstance(caught.value, InputError)
    assert repr(version) in str(caught.value)
    assert ecosystem in str(caught.value)


def test_ecosystem_with_release_uses_its_rules() -> None:
    assert base_ecosystem("Ubuntu:22.04:LTS") == "Ubuntu"
    assert comparator("Debian:12").compare("1:0.9", "2.0") == 1
    assert comparator("Alpine:v3.19").compare("1.2.3_rc1", "1.2.3") == -1
    assert comparator("Ubuntu:Pro:18.04:LTS").compare("1.0~rc1", "1.0") == -1


def test_unknown_ecosystem() -> None:
    with pytest.raises(UnsupportedEcosystem) as caught:
        comparator("Unheard-of")
    assert isinstance(caught.value, UsageError)


def test_sorting_by_key() -> None:
    rules = comparator("Debian")
    versions = ["1.0", "1.0~rc1", "1:0.1", "1.0-1", "0.9", "1.0+b1", "1.0~beta"]
    assert sorted(versions, key=rules.key) == [
        "0.9",
        "1.0~beta",
        "1.0~rc1",
        "1.0",
        "1.0-1",
        "1.0+b1",
        "1:0.1",
    ]

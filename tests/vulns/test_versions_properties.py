"""Properties of every comparator on generated versions: a total order (reflexive,
antisymmetric, transitive), and, for dpkg and RubyGems, agreement with a direct
transcription of the published algorithm (character walk, padded segment walk)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.vulns.versions import comparator

_num = st.integers(min_value=0, max_value=20).map(str)
_word = st.sampled_from(["a", "b", "rc", "alpha", "beta", "pre", "dev", "post", "p", "z"])


def _joined(parts: st.SearchStrategy[list[str]], sep: str = ".") -> st.SearchStrategy[str]:
    return parts.map(sep.join)


VERSIONS: dict[str, st.SearchStrategy[str]] = {
    "PyPI": st.builds(
        lambda release, pre, post, dev: release + pre + post + dev,
        _joined(st.lists(_num, min_size=1, max_size=4)),
        st.sampled_from(["", "a1", "b2", "rc1", "rc10"]),
        st.sampled_from(["", ".post1", ".post2"]),
        st.sampled_from(["", ".dev0", ".dev3"]),
    ),
    "npm": st.builds(
        lambda a, b, c, pre: f"{a}.{b}.{c}" + (f"-{pre}" if pre else ""),
        _num,
        _num,
        _num,
        _joined(st.lists(st.one_of(_num, _word), max_size=3)),
    ),
    "Packagist": st.builds(
        lambda release, suffix: release + suffix,
        _joined(st.lists(_num, min_size=1, max_size=4)),
        st.sampled_from(["", "-alpha1", "-beta2", "-RC1", "-p1", "-dev", "-beta1-dev"]),
    ),
    "RubyGems": _joined(st.lists(st.one_of(_num, _word), min_size=1, max_size=5)).map(
        lambda v: v if v[0].isdigit() else "1." + v
    ),
    "Debian": st.builds(
        lambda epoch, upstream, revision: epoch + upstream + revision,
        st.sampled_from(["", "1:", "2:"]),
        st.from_regex(r"[0-9][0-9a-z.+~]{0,6}", fullmatch=True),
        st.sampled_from(["", "-1", "-1~bpo1", "-2+deb12u1", "-0ubuntu1.1"]),
    ),
    "Alpine": st.builds(
        lambda release, letter, suffix, revision: release + letter + suffix + revision,
        _joined(st.lists(st.sampled_from(["0", "1", "2", "01", "10"]), min_size=1, max_size=3)),
        st.sampled_from(["", "a", "b"]),
        st.sampled_from(["", "_alpha", "_beta2", "_pre1", "_rc1", "_p1", "_git", "_rc1_p2"]),
        st.sampled_from(["", "-r0", "-r1", "-r10"]),
    ),
    "Maven": st.builds(
        lambda release, rest: release + rest,
        _joined(st.lists(_num, min_size=1, max_size=3)),
        _joined(
            st.lists(st.sampled_from(["", "-alpha1", "-rc", "-sp", "-SNAPSHOT", ".1", "-1"])),
            "",
        ),
    ),
}


def _check_total_order(ecosystem: str, a: str, b: str, c: str) -> None:
    rules = comparator(ecosystem)
    assert rules.compare(a, a) == 0
    assert rules.compare(a, b) == -rules.compare(b, a)
    ordered = sorted([a, b, c], key=rules.key)
    assert rules.compare(ordered[0], ordered[1]) <= 0
    assert rules.compare(ordered[1], ordered[2]) <= 0
    assert rules.compare(ordered[0], ordered[2]) <= 0
    if rules.compare(a, b) <= 0 and rules.compare(b, c) <= 0:
        assert rules.compare(a, c) <= 0


def _make_order_test(ecosystem: str) -> object:
    strategy = VERSIONS[ecosystem]

    @settings(max_examples=300)
    @given(strategy, strategy, strategy)
    def test(a: str, b: str, c: str) -> None:
        _check_total_order(ecosystem, a, b, c)

    test.__name__ = f"test_total_order_{ecosystem}"
    return test


for _ecosystem in VERSIONS:
    globals()[f"test_total_order_{_ecosystem}"] = _make_order_test(_ecosystem)


def _dpkg_order(char: str) -> int:
    if char == "~":
        return -1
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def _verrevcmp(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _dpkg_order(a[i]) if i < len(a) and not a[i].isdigit() else 0
            bc = _dpkg_order(b[j]) if j < len(b) and not b[j].isdigit() else 0
            if ac != bc:
                return ac - bc
            i, j = i + 1, j + 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i, j = i + 1, j + 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def _dpkg_reference(a: str, b: str) -> int:
    def split(v: str) -> tuple[int, str, str]:
        epoch, _, rest = v.rpartition(":") if ":" in v else ("0", "", v)
        upstream, _, revision = rest.rpartition("-") if "-" in rest else (rest, "", "")
        return int(epoch), upstream, revision

    (ea, ua, ra), (eb, ub, rb) = split(a), split(b)
    if ea != eb:
        return -1 if ea < eb else 1
    result = _verrevcmp(ua, ub) or _verrevcmp(ra, rb)
    return (result > 0) - (result < 0)


@settings(max_examples=500)
@given(VERSIONS["Debian"], VERSIONS["Debian"])
def test_dpkg_matches_the_character_walk(a: str, b: str) -> None:
    assert comparator("Debian").compare(a, b) == _dpkg_reference(a, b)


def _gem_reference(a: str, b: str) -> int:
    def canonical(v: str) -> list[int | str]:
        segments: list[int | str] = [
            int(s) if s.isdigit() else s for s in re.findall(r"[0-9]+|[a-zA-Z]+", v)
        ]
        cut = next((i for i, s in enumerate(segments) if isinstance(s, str)), len(segments))
        parts = [segments[:cut], segments[cut:]]
        for part in parts:
            while part and part[-1] == 0:
                part.pop()
        return parts[0] + parts[1]

    left, right = canonical(a), canonical(b)
    for index in range(max(len(left), len(right))):
        x = left[index] if index < len(left) else 0
        y = right[index] if index < len(right) else 0
        if x == y:
            continue
        if isinstance(x, str) and isinstance(y, int):
            return -1
        if isinstance(x, int) and isinstance(y, str):
            return 1
        return -1 if x < y else 1  # type: ignore[operator]
    return 0


@settings(max_examples=500)
@given(VERSIONS["RubyGems"], VERSIONS["RubyGems"])
def test_rubygems_matches_the_padded_walk(a: str, b: str) -> None:
    assert comparator("RubyGems").compare(a, b) == _gem_reference(a, b)

"""Escaped wildcards are literal characters, even when they are a whole part of a value."""

from __future__ import annotations

import pytest

from tests.detection.harness import detection, matches


@pytest.mark.parametrize(
    ("selection", "events"),
    [
        ("Description: '\\?'", {"?": True, "-": False, "??": False}),
        ("Description: '\\*'", {"*": True, "abc": False, "": False}),
        ("CommandLine|contains: '\\?'", {"cmd /c ?": True, "cmd /c pester;x": False}),
        ("CommandLine|endswith: '\\?'", {"what?": True, "what": False}),
        ("CommandLine|startswith: '\\*'", {"*.txt": True, "a.txt": False}),
        ("CommandLine: 'a*\\?'", {"abc?": True, "a?": True, "abcd": False}),
        ("CommandLine: '\\?*\\?'", {"?x?": True, "??": True, "x?x": False}),
        ("CommandLine: 'a\\\\*'", {"a\\": True, "a\\bc": True, "ab": False}),
    ],
)
def test_escaped_wildcard_is_literal(selection: str, events: dict[str, bool]) -> None:
    field = selection.split("|")[0].split(":")[0]
    rule = detection(f"selection:\n  {selection}\ncondition: selection\n")
    values = list(events)
    assert matches(rule, [{field: v} for v in values]) == [events[v] for v in values]

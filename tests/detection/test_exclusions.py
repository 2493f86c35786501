"""Exclusions: known-good activity taken out of rules, stale entries reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.detection.harness import matches, rule_from_yaml
from watchkeeper.detection.exclusions import apply_exclusions, load_exclusions
from watchkeeper.errors import UsageError

RULE = """
id: 11111111-0000-4000-8000-000000000001
title: whoami
detection:
  selection: {Image|endswith: '\\whoami.exe'}
  condition: selection
"""
OTHER = """
id: 11111111-0000-4000-8000-000000000002
title: net
detection:
  selection: {Image|endswith: '\\net.exe'}
  condition: selection
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exclusions.yml"
    path.write_text(text)
    return path


def test_exclusion_takes_out_only_what_it_matches(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "exclusions:\n"
        "  - rules: 11111111-0000-4000-8000-000000000001\n"
        "    reason: backup agent\n"
        "    match: {ParentImage|endswith: '\\backup.exe'}\n",
    )
    (rule,), stale = apply_exclusions([rule_from_yaml(RULE)], load_exclusions([path]))
    assert stale == []
    events = [
        {"Image": "C:\\w\\whoami.exe", "ParentImage": "C:\\x\\backup.exe"},
        {"Image": "C:\\w\\whoami.exe", "ParentImage": "C:\\x\\cmd.exe"},
        {"Image": "C:\\w\\whoami.exe"},
    ]
    assert matches(rule, events) == [False, True, True]


def test_global_exclusion_by_title_and_list_of_maps(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "exclusions:\n"
        "  - rules: '*'\n"
        "    match: [{Computer: scanner-01}, {SourceIp|cidr: 10.99.0.0/24}]\n",
    )
    rules, stale = apply_exclusions(
        [rule_from_yaml(RULE), rule_from_yaml(OTHER)], load_exclusions([path])
    )
    assert stale == []
    for rule, image in zip(rules, ["C:\\whoami.exe", "C:\\net.exe"], strict=True):
        events = [
            {"Image": image, "Computer": "scanner-01"},
            {"Image": image, "SourceIp": "10.99.0.7"},
            {"Image": image, "Computer": "ws-1", "SourceIp": "10.1.0.7"},
        ]
        assert matches(rule, events) == [False, False, True]


def test_exclusion_naming_no_loaded_rule_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "exclusions:\n  - rules: [gone-rule]\n    reason: old\n    match: {User: x}\n",
    )
    rules, stale = apply_exclusions([rule_from_yaml(RULE)], load_exclusions([path]))
    assert rules == [rule_from_yaml(RULE)]
    assert [e.reason for e in stale] == ["old"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("exclusions: 3\n", "list under 'exclusions'"),
        ("exclusions:\n  - rules: 3\n    match: {a: b}\n", "'rules' must be"),
        ("exclusions:\n  - rules: '*'\n", "'match' must be"),
        ("exclusions:\n  - rules: '*'\n    match: {a|nosuch: b}\n", "not a valid detection"),
        ("exclusions: [\n", "cannot read exclusions"),
    ],
)
def test_broken_exclusions_are_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        load_exclusions([write(tmp_path, text)])
    assert "exclusions.yml" in str(caught.value)

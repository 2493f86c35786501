"""Logsource routing, field aliases and many rules evaluated together (prefilter), on the
Engine directly with frames as the event readers build them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from tests.detection.harness import detection, rule_from_yaml
from watchkeeper.detection import reference
from watchkeeper.detection.engine import Engine
from watchkeeper.detection.rules import Rule
from watchkeeper.events.model import DATASET, frame_from_records, stringify

SYSMON = "Microsoft-Windows-Sysmon/Operational"
WHOAMI = "C:\\Windows\\System32\\whoami.exe"


def rule(body: str, logsource: str = "{product: windows, category: process_creation}") -> Rule:
    return rule_from_yaml(f"logsource: {logsource}\n" + detection(body))


def hits(rules: Sequence[Rule], events: Sequence[Mapping[str, Any]]) -> list[set[int]]:
    """Per rule, the rows it matched."""
    records = [{k: v for k, v in e.items() if k != DATASET} for e in events]
    frame = frame_from_records(records, {DATASET: [e[DATASET] for e in events]})
    engine = Engine(rules)
    assert not engine.unrouted
    found: list[set[int]] = [set() for _ in rules]
    for row, index in engine.evaluate(frame).iter_rows():
        found[index].add(row)
    return found


WHOAMI_RULE = """
    selection:
      Image|endswith: '\\whoami.exe'
    condition: selection
    """

EVENTS: list[dict[str, Any]] = [
    {DATASET: "windows.sysmon", "Channel": SYSMON, "EventID": 1, "Image": WHOAMI},  # 0
    {DATASET: "windows.security", "Channel": "Security", "EventID": 4688, "NewProcessName": WHOAMI},
    {DATASET: "windows.sysmon", "Channel": SYSMON, "EventID": 3, "Image": WHOAMI},  # 2
    {DATASET: "windows.application", "Channel": "Application", "EventID": 1, "Image": WHOAMI},
    {DATASET: "windows.security", "Channel": "Security", "EventID": 4624, "NewProcessName": WHOAMI},
    {DATASET: "linux.sysmon", "Channel": "Linux-Sysmon/Operational", "EventID": 1, "Image": WHOAMI},
    {DATASET: "windows.sysmon", "Channel": SYSMON, "EventID": 1, "Image": "C:\\cmd.exe"},  # 6
    {
        DATASET: "windows.security",
        "Channel": "Security",
        "EventID": 4688,
        "NewProcessName": "C:\\x.exe",
    },
]


def test_process_creation_covers_sysmon_1_and_security_4688() -> None:
    assert hits([rule(WHOAMI_RULE)], EVENTS) == [{0, 1}]


def test_security_service_does_not_see_sysmon() -> None:
    assert hits([rule(WHOAMI_RULE, "{product: windows, service: security}")], EVENTS) == [{1, 4}]


def test_sysmon_service_sees_every_sysmon_event() -> None:
    assert hits([rule(WHOAMI_RULE, "{product: windows, service: sysmon}")], EVENTS) == [{0, 2}]


def test_network_connection_is_sysmon_3_only() -> None:
    found = hits([rule(WHOAMI_RULE, "{product: windows, category: network_connection}")], EVENTS)
    assert found == [{2}]


def test_linux_process_creation_does_not_see_windows() -> None:
    found = hits([rule(WHOAMI_RULE, "{product: linux, category: process_creation}")], EVENTS)
    assert found == [{5}]


def test_product_only_sees_every_event_of_the_product() -> None:
    assert hits([rule(WHOAMI_RULE, "{product: windows}")], EVENTS) == [{0, 1, 2, 3, 4}]


def test_routing_ignores_case_of_channel() -> None:
    events = [
        {
            DATASET: "windows.security",
            "Channel": "SECURITY",
            "EventID": "4688",
            "NewProcessName": WHOAMI,
        }
    ]
    assert hits([rule(WHOAMI_RULE)], events) == [{0}]


def test_rules_of_several_logsources_in_one_engine() -> None:
    rules = [
        rule(WHOAMI_RULE),
        rule(WHOAMI_RULE, "{product: windows, service: security}"),
        rule(WHOAMI_RULE, "{product: windows, category: network_connection}"),
    ]
    assert hits(rules, EVENTS) == [{0, 1}, {1, 4}, {2}]


def test_unknown_logsource_is_unrouted() -> None:
    known = rule(WHOAMI_RULE)
    unknown = rule(WHOAMI_RULE, "{product: windows, category: no_such_category}")
    other_product = rule(WHOAMI_RULE, "{product: macos, category: process_creation}")
    engine = Engine([known, unknown, other_product])
    assert engine.unrouted == [unknown, other_product]
    frame = frame_from_records(
        [{k: v for k, v in EVENTS[0].items() if k != DATASET}], {DATASET: ["windows.sysmon"]}
    )
    assert engine.evaluate(frame).get_column("rule").to_list() == [0]


# -- field aliases -----------------------------------------------------------------------


def test_rule_on_image_matches_elastic_process_executable() -> None:
    events = [
        {DATASET: "windows.sysmon", "Channel": SYSMON, "EventID": 1, "process.executable": WHOAMI},
        {
            DATASET: "windows.sysmon",
            "Channel": SYSMON,
            "EventID": 1,
            "process.executable": "C:\\a.exe",
        },
        {DATASET: "windows.sysmon", "Channel": SYSMON, "EventID": 1},
    ]
    assert hits([rule(WHOAMI_RULE)], events) == [{0}]
    assert hits([rule(WHOAMI_RULE, "{product: windows}")], events) == [{0}]


def test_alias_is_resolved_per_event_and_the_named_field_wins() -> None:
    events = [
        {DATASET: "windows.sysmon", "Channel": SYSMON, "EventID": 1, "Image": WHOAMI},
        {DATASET: "windows.sysmon", "Channel": SYSMON, "EventID": 1, "process.executable": WHOAMI},
        {
            DATASET: "windows.sysmon",
            "Channel": SYSMON,
            "EventID": 1,
            "Image": "C:\\cmd.exe",
            "process.executable": WHOAMI,
        },
    ]
    assert hits([rule(WHOAMI_RULE)], events) == [{0, 1}]


def test_aliases_for_security_4688_parent_and_command_line() -> None:
    body = """
        selection:
          ParentImage|endswith: '\\winword.exe'
          CommandLine|contains: 'powershell'
        condition: selection
        """
    base = {DATASET: "windows.security", "Channel": "Security", "EventID": 4688}
    events = [
        {**base, "ParentProcessName": "C:\\Office\\WINWORD.EXE", "CommandLine": "powershell -c x"},
        {**base, "ParentProcessName": "C:\\explorer.exe", "CommandLine": "powershell -c x"},
        {**base, "ParentProcessName": "C:\\Office\\winword.exe", "process.command_line": "pwsh"},
        {
            **base,
            "process.parent.executable": "C:\\winword.exe",
            "process.command_line": "powershell",
        },
    ]
    assert hits([rule(body)], events) == [{0, 3}]


def test_canonical_field_in_rule_reads_original_field() -> None:
    body = """
        selection:
          process.executable|endswith: '\\whoami.exe'
        condition: selection
        """
    assert hits([rule(body)], EVENTS) == [{0, 1}]


# -- many rules in one engine: the prefilter must not lose matches -----------------------------


MANY_RULES = [
    "sel: {CommandLine|contains: 'whoami'}\ncondition: sel",
    "sel: {CommandLine|contains: 'hoami /all'}\ncondition: sel",
    "sel: {CommandLine|contains|all: ['who', 'ami', '/priv']}\ncondition: sel",
    "sel: {Image|endswith: '\\whoami.exe'}\nfilter: {CommandLine|contains: '/priv'}\n"
    "condition: sel and not filter",
    "keywords: ['whoami']\ncondition: keywords",
    "sel: {CommandLine|re: 'who.mi'}\ncondition: sel",
    "sel: {CommandLine|contains|cased: 'WHOAMI'}\ncondition: sel",
    "sel: {Image: '*\\who?mi.exe'}\ncondition: sel",
    "sel: {CommandLine|startswith: ['whoami', 'net ', 'ipconfig']}\ncondition: sel",
    "sel: {CommandLine|contains: ['/all', '/groups']}\nsel2: {Image|endswith: '.exe'}\n"
    "condition: sel and sel2",
    "sel: {CommandLine: 'wh'}\ncondition: sel",
    "sel: {User|contains: 'adm'}\ncondition: not sel",
]

MANY_EVENTS = [
    {"Image": WHOAMI, "CommandLine": "whoami /all", "User": "admin"},
    {"Image": WHOAMI, "CommandLine": "WHOAMI /priv", "User": "bob"},
    {"Image": "C:\\cmd.exe", "CommandLine": "cmd /c whoami /groups"},
    {"Image": "C:\\who1mi.exe", "CommandLine": "net user"},
    {"Image": "C:\\x.exe", "CommandLine": "wh", "User": "ADM"},
    {"Image": "C:\\x.exe", "CommandLine": "ipconfig /all", "Note": "ran whoami earlier"},
    {"Image": "C:\\x.exe"},
]

MANY_EXPECTED = [
    {0, 1, 2},
    {0},
    {1},
    {0},
    {0, 1, 2, 5},
    {0, 2},
    {1},
    {0, 1, 3},
    {0, 1, 3, 5},
    {0, 2, 5},
    {4},
    {1, 2, 3, 5, 6},
]


def test_many_rules_together_match_as_each_alone() -> None:
    rules = [rule(body) for body in MANY_RULES]
    events = [
        {DATASET: "windows.sysmon", "Channel": SYSMON, "EventID": 1, **e} for e in MANY_EVENTS
    ]
    together = hits(rules, events)
    alone = [hits([r], events)[0] for r in rules]
    by_reference = [
        {
            row
            for row, event in enumerate(events)
            if reference.matches(
                r.condition, {k: stringify(v) for k, v in event.items() if k != DATASET}
            )
        }
        for r in rules
    ]
    assert together == alone == by_reference == MANY_EXPECTED


@pytest.mark.parametrize("size", [1, 7, 2_000])
def test_prefilter_keeps_matches_in_larger_batches(size: int) -> None:
    rules = [rule(body) for body in MANY_RULES[:4]]
    filler = {
        DATASET: "windows.sysmon",
        "Channel": SYSMON,
        "EventID": 1,
        "Image": "C:\\a.exe",
        "CommandLine": "dir",
    }
    events = [dict(filler) for _ in range(size)]
    events[size // 2] = {**filler, "Image": WHOAMI, "CommandLine": "whoami /all"}
    events[-1] = {**filler, "Image": WHOAMI, "CommandLine": "whoami /priv"}
    last = size - 1
    middle = size // 2
    if size == 1:
        assert hits(rules, events) == [{0}, set(), {0}, set()]
    else:
        assert hits(rules, events) == [{middle, last}, {middle}, {last}, {middle}]

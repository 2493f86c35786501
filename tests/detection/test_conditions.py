"""Detection structure and the condition grammar: maps (AND), lists (OR), and / or / not,
parentheses, ``1 of`` / ``all of`` with patterns and ``them``, lists of conditions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.detection.harness import detection, matches

E = dict[str, Any]


def run(body: str, events: list[E]) -> list[bool]:
    return matches(detection(body), events)


# -- maps, lists, lists of maps -------------------------------------------------------------


def test_map_keys_are_anded() -> None:
    body = r"""
        selection:
          Image|endswith: '\net.exe'
          CommandLine|contains: ' user '
          User: 'NT AUTHORITY\SYSTEM'
        condition: selection
        """
    full = {
        "Image": "C:\\net.exe",
        "CommandLine": "net user x /add",
        "User": "nt authority\\system",
    }
    events = [
        full,
        {**full, "Image": "C:\\net1.exe"},
        {**full, "CommandLine": "net group"},
        {**full, "User": "bob"},
        {k: v for k, v in full.items() if k != "User"},
    ]
    assert run(body, events) == [True, False, False, False, False]


def test_list_of_maps_is_ored() -> None:
    body = r"""
        selection:
          - Image|endswith: '\certutil.exe'
            CommandLine|contains: 'urlcache'
          - Image|endswith: '\bitsadmin.exe'
            CommandLine|contains: '/transfer'
        condition: selection
        """
    events = [
        {"Image": "C:\\certutil.exe", "CommandLine": "certutil -urlcache -f http://x"},
        {"Image": "C:\\bitsadmin.exe", "CommandLine": "bitsadmin /transfer j http://x"},
        {"Image": "C:\\certutil.exe", "CommandLine": "bitsadmin /transfer j"},
        {"Image": "C:\\bitsadmin.exe", "CommandLine": "-urlcache"},
    ]
    assert run(body, events) == [True, True, False, False]


def test_empty_value_list_means_null() -> None:
    # pySigma reads a field with no values as a null test.
    body = """
        selection:
          Image: []
        condition: selection
        """
    assert run(body, [{"Image": "x"}, {"Image": ""}, {}]) == [False, False, True]


# -- and / or / not / parentheses -------------------------------------------------------------

SELECTIONS = """
        a:
          A: 'x'
        b:
          B: 'x'
        c:
          C: 'x'
"""


def truth(a: bool, b: bool, c: bool) -> E:
    return {name: ("x" if on else "y") for name, on in (("A", a), ("B", b), ("C", c))}


ALL_ROWS = [(a, b, c) for a in (False, True) for b in (False, True) for c in (False, True)]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("a and b", lambda a, b, c: a and b),
        ("a or b", lambda a, b, c: a or b),
        ("not a", lambda a, b, c: not a),
        ("a or b and c", lambda a, b, c: a or (b and c)),
        ("(a or b) and c", lambda a, b, c: (a or b) and c),
        ("not a and b", lambda a, b, c: (not a) and b),
        ("not (a and b)", lambda a, b, c: not (a and b)),
        ("not (a or b) or c", lambda a, b, c: (not (a or b)) or c),
        ("a and not b and not c", lambda a, b, c: a and not b and not c),
        ("((a))", lambda a, b, c: a),
        ("not not a", lambda a, b, c: a),
        ("a and (b or (c and not a))", lambda a, b, c: a and (b or (c and not a))),
    ],
)
def test_boolean_operators(condition: str, expected: Any) -> None:
    body = SELECTIONS + f"        condition: {condition}\n"
    events = [truth(*row) for row in ALL_ROWS]
    assert run(body, events) == [expected(*row) for row in ALL_ROWS]


def test_selection_and_not_filter_when_filter_field_is_absent() -> None:
    body = r"""
        selection:
          Image|endswith: '\rundll32.exe'
        filter:
          ParentImage|startswith: 'C:\Program Files\'
        condition: selection and not filter
        """
    events = [
        {"Image": "C:\\Windows\\rundll32.exe"},
        {"Image": "C:\\Windows\\rundll32.exe", "ParentImage": None},
        {"Image": "C:\\Windows\\rundll32.exe", "ParentImage": "C:\\Program Files\\App\\a.exe"},
        {"Image": "C:\\Windows\\rundll32.exe", "ParentImage": "C:\\Users\\a.exe"},
    ]
    assert run(body, events) == [True, True, False, True]


def test_not_of_a_map_with_one_field_absent() -> None:
    # not (A and B): true as soon as one of them fails, whether by value or by absence
    body = """
        filter:
          A: 'x'
          B: 'x'
        condition: not filter
        """
    events = [{"A": "x", "B": "x"}, {"A": "x"}, {"B": "x"}, {}, {"A": "x", "B": "y"}]
    assert run(body, events) == [False, True, True, True, True]


def test_filter_with_null_excludes_only_absent_fields() -> None:
    body = r"""
        selection:
          Image|endswith: '\schtasks.exe'
        filter_null:
          ParentImage: null
        condition: selection and not filter_null
        """
    events = [
        {"Image": "C:\\schtasks.exe", "ParentImage": "C:\\cmd.exe"},
        {"Image": "C:\\schtasks.exe"},
        {"Image": "C:\\schtasks.exe", "ParentImage": ""},
    ]
    assert run(body, events) == [True, False, True]


# -- 1 of / all of ----------------------------------------------------------------------------

PATTERNED = r"""
        selection_img:
          Image|endswith: '\powershell.exe'
        selection_cli:
          CommandLine|contains: '-enc'
        filter_parent:
          ParentImage|endswith: '\explorer.exe'
"""


def patterned_events() -> list[E]:
    return [
        {
            "Image": "C:\\powershell.exe",
            "CommandLine": "-enc AA",
            "ParentImage": "C:\\explorer.exe",
        },
        {"Image": "C:\\powershell.exe", "CommandLine": "-nop", "ParentImage": "C:\\winword.exe"},
        {"Image": "C:\\cmd.exe", "CommandLine": "-enc", "ParentImage": "C:\\winword.exe"},
        {"Image": "C:\\powershell.exe", "CommandLine": "-enc AA", "ParentImage": "C:\\winword.exe"},
        {"Image": "C:\\cmd.exe", "CommandLine": "dir", "ParentImage": "C:\\explorer.exe"},
        {"Image": "C:\\cmd.exe", "CommandLine": "dir"},
    ]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("1 of selection_*", [True, True, True, True, False, False]),
        ("all of selection_*", [True, False, False, True, False, False]),
        ("all of selection_* and not 1 of filter_*", [False, False, False, True, False, False]),
        ("1 of selection_* and not filter_parent", [False, True, True, True, False, False]),
        ("1 of them", [True, True, True, True, True, False]),
        ("all of them", [True, False, False, False, False, False]),
        ("any of selection_*", [True, True, True, True, False, False]),
        ("not 1 of them", [False, False, False, False, False, True]),
        ("not all of selection_*", [False, True, True, False, True, True]),
        ("1 of *_img or 1 of filter*", [True, True, False, True, True, False]),
    ],
)
def test_quantified_selections(condition: str, expected: list[bool]) -> None:
    body = PATTERNED + f"        condition: {condition}\n"
    assert run(body, patterned_events()) == expected


def test_nested_quantifiers_and_parentheses() -> None:
    body = r"""
        sel_a1:
          A: 'x'
        sel_a2:
          A: 'y'
        sel_b1:
          B: 'x'
        sel_b2:
          B: 'y'
        condition: (1 of sel_a* and 1 of sel_b*) and not (all of sel_a* or all of sel_b*)
        """
    events = [
        {"A": "x", "B": "y"},
        {"A": "z", "B": "y"},
        {"A": "y", "B": "x"},
        {"A": "x"},
    ]
    assert run(body, events) == [True, False, True, False]


def test_several_conditions_are_ored() -> None:
    body = r"""
        sel_one:
          Image|endswith: '\a.exe'
        sel_two:
          Image|endswith: '\b.exe'
        condition:
          - sel_one
          - sel_two
        """
    events = [{"Image": "C:\\a.exe"}, {"Image": "C:\\b.exe"}, {"Image": "C:\\c.exe"}]
    assert run(body, events) == [True, True, False]


def test_several_conditions_each_with_operators() -> None:
    body = SELECTIONS + "        condition:\n          - a and b\n          - not a and c\n"
    events = [truth(*row) for row in ALL_ROWS]
    assert run(body, events) == [(a and b) or ((not a) and c) for a, b, c in ALL_ROWS]

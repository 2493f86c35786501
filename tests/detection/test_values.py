"""Values: case, exact match, wildcards and escapes, null and empty, exists, numbers and
booleans, missing fields, keyword detections."""

from __future__ import annotations

from typing import Any

import pytest

from tests.detection.harness import detection, field_rule, matches


def one(body: str, event: dict[str, Any]) -> bool:
    """Whether a rule with ``body`` matches one event."""
    return matches(detection(body), [event])[0]


# -- case and exact match ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("C:\\Windows\\System32\\whoami.exe", True),
        ("c:\\windows\\system32\\WHOAMI.EXE", True),
        ("C:\\Windows\\System32\\whoami.exe.bak", False),
        ("D:\\C:\\Windows\\System32\\whoami.exe", False),
        ("C:\\Windows\\System32\\whoami.ex", False),
        ("", False),
    ],
)
def test_plain_value_is_a_whole_value_match_without_case(value: str, expected: bool) -> None:
    rule = field_rule("Image", r"'C:\Windows\System32\whoami.exe'")
    assert matches(rule, [{"Image": value}]) == [expected]


def test_non_ascii_values_compare_without_case() -> None:
    rule = field_rule("User", "'ÄRGER-ÉTÉ'")
    assert matches(rule, [{"User": "ärger-été"}, {"User": "ARGER-ETE"}]) == [True, False]


def test_case_insensitive_contains_of_greek_word_ending_in_sigma() -> None:
    # 'ΟΔΟΣ' alone lower-cases with a final sigma, inside 'ΟΔΟΣΑ' with a medial one.
    rule = field_rule("CommandLine|contains", "'ΟΔΟΣ'")
    events = [{"CommandLine": "echo ΟΔΟΣΑ"}, {"CommandLine": "echo οδοσ"}, {"CommandLine": "ΟΔΟ"}]
    assert matches(rule, events) == [True, True, False]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("WhoAmI", True), ("whoami", False), ("WHOAMI", False), ("WhoAmI ", False)],
)
def test_cased_compares_with_case(value: str, expected: bool) -> None:
    rule = field_rule("CommandLine|cased", "'WhoAmI'")
    assert matches(rule, [{"CommandLine": value}]) == [expected]


# -- wildcards ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("cmd.exe", True),  # * matches an empty run
        ("cmd64.exe", True),
        ("CMD-x86.EXE", True),
        ("cmd\nline two\n.exe", True),  # * runs across newlines
        ("xcmd.exe", False),
        ("cmd.exe.txt", False),
        ("cm.exe", False),
    ],
)
def test_star_matches_any_run(value: str, expected: bool) -> None:
    assert matches(field_rule("Image", "'cmd*.exe'"), [{"Image": value}]) == [expected]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", True),
        ("aXc", True),
        ("a\nc", True),
        ("a*c", True),
        ("ac", False),
        ("abbc", False),
        ("abcd", False),
    ],
)
def test_question_mark_matches_exactly_one_character(value: str, expected: bool) -> None:
    assert matches(field_rule("Image", "'a?c'"), [{"Image": value}]) == [expected]


def test_wildcards_in_the_middle_and_at_both_ends() -> None:
    rule = field_rule("CommandLine", "'*-nop*-w?hidden*'")
    events = [
        {"CommandLine": "powershell.exe -NoP -W hidden -enc AAAA"},
        {"CommandLine": "powershell.exe -nop -w1hidden"},
        {"CommandLine": "powershell.exe -w hidden -nop"},
        {"CommandLine": "powershell.exe -nop -w  hidden"},
    ]
    assert matches(rule, events) == [True, True, False, False]


def test_wildcard_pattern_does_not_match_value_with_extra_trailing_newline() -> None:
    rule = field_rule("Image", r"'C:\Windows\\*\cmd.exe'")
    events = [
        {"Image": "C:\\Windows\\System32\\cmd.exe\n"},
        {"Image": "C:\\Windows\\System32\\cmd.exe"},
    ]
    assert matches(rule, events) == [False, True]
    assert matches(field_rule("Image", "'a?c'"), [{"Image": "abc\n"}]) == [False]


# -- escapes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yaml_value", "value", "expected"),
    [
        # \* is a literal asterisk
        (r"'100\*'", "100*", True),
        (r"'100\*'", "1000", False),
        (r"'100\*'", "100", False),
        # \? is a literal question mark
        (r"'what\?'", "what?", True),
        (r"'what\?'", "whatX", False),
        # \\ is one backslash; before a wildcard it keeps the wildcard active
        (r"'C:\Temp\\*'", "C:\\Temp\\evil.exe", True),
        (r"'C:\Temp\\*'", "C:\\Temp*", False),
        (r"'C:\Temp\\*'", "C:\\Tempest\\x", False),
        (r"'\\\\server\share'", "\\\\server\\share", True),
        (r"'\\\\server\share'", "\\server\\share", False),
        # \\\* is a backslash and a literal asterisk
        (r"'x\\\*'", "x\\*", True),
        (r"'x\\\*'", "x\\abc", False),
        # a backslash before an ordinary character is itself
        (r"'C:\Windows'", "C:\\Windows", True),
        (r"'C:\Windows'", "C:Windows", False),
    ],
)
def test_escapes(yaml_value: str, value: str, expected: bool) -> None:
    assert matches(field_rule("Image", yaml_value), [{"Image": value}]) == [expected]


# -- null, empty string, exists -----------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({}, True),
        ({"ParentImage": None}, True),
        ({"ParentImage": ""}, False),
        ({"ParentImage": "x"}, False),
    ],
)
def test_null_matches_absent_or_null_only(event: dict[str, Any], expected: bool) -> None:
    assert matches(field_rule("ParentImage", "null"), [event]) == [expected]


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"ParentImage": ""}, True),
        ({}, False),
        ({"ParentImage": None}, False),
        ({"ParentImage": " "}, False),
    ],
)
def test_empty_string_is_a_value_not_null(event: dict[str, Any], expected: bool) -> None:
    assert matches(field_rule("ParentImage", "''"), [event]) == [expected]


def test_null_among_other_values_is_ored() -> None:
    rule = field_rule("ParentImage", "[null, 'explorer.exe']")
    events = [{}, {"ParentImage": "EXPLORER.EXE"}, {"ParentImage": "cmd.exe"}, {"ParentImage": ""}]
    assert matches(rule, events) == [True, True, False, False]


@pytest.mark.parametrize(
    ("flag", "event", "expected"),
    [
        ("true", {"Hashes": "SHA256=ab"}, True),
        ("true", {"Hashes": ""}, True),
        ("true", {}, False),
        ("true", {"Hashes": None}, False),
        ("false", {}, True),
        ("false", {"Hashes": None}, True),
        ("false", {"Hashes": ""}, False),
        ("false", {"Hashes": "SHA256=ab"}, False),
    ],
)
def test_exists(flag: str, event: dict[str, Any], expected: bool) -> None:
    assert matches(field_rule("Hashes|exists", flag), [event]) == [expected]


# -- a missing field fails every test but null / exists; its negation holds -----------------


MISSING_FIELD_TESTS = [
    "Target: 'x'",
    "Target: ''",
    "Target|contains: 'x'",
    "Target|startswith: 'x'",
    "Target|endswith: 'x'",
    "Target|cased: 'x'",
    "Target: 'x*y'",
    "Target: '*'",
    "Target|re: '.*'",
    "Target|cidr: '0.0.0.0/0'",
    "Target|gte: 0",
    "Target|lt: 0",
    "Target|fieldref: Other",
    "Target: 5",
    "Target: true",
]


@pytest.mark.parametrize("test", MISSING_FIELD_TESTS)
def test_missing_field_fails_the_test(test: str) -> None:
    body = f"""
        selection:
          {test}
        condition: selection
        """
    assert one(body, {"Other": "x"}) is False
    assert one(body, {"Other": "x", "Target": None}) is False


@pytest.mark.parametrize("test", MISSING_FIELD_TESTS)
def test_not_of_a_test_on_a_missing_field_is_true(test: str) -> None:
    body = f"""
        selection:
          Image|endswith: '\\cmd.exe'
        filter:
          {test}
        condition: selection and not filter
        """
    assert one(body, {"Image": "C:\\cmd.exe", "Other": "x"}) is True
    assert one(body, {"Image": "C:\\cmd.exe", "Other": "x", "Target": None}) is True
    assert one(body, {"Image": "C:\\powershell.exe", "Other": "x"}) is False


# -- numbers and booleans in rules ------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("4688", True),
        (4688, True),
        ("46880", False),
        ("4689", False),
        ("04688", False),
        ("", False),
    ],
)
def test_number_in_rule_matches_its_text(value: Any, expected: bool) -> None:
    rule = field_rule("TerminalSessionId", "4688")
    assert matches(rule, [{"TerminalSessionId": value}]) == [expected]


def test_list_of_numbers_is_ored() -> None:
    rule = field_rule("LogonType", "[3, 10]")
    events = [{"LogonType": "3"}, {"LogonType": 10}, {"LogonType": "2"}, {"LogonType": "310"}]
    assert matches(rule, events) == [True, True, False, False]


@pytest.mark.parametrize(
    ("rule_value", "value", "expected"),
    [
        ("true", "true", True),
        ("true", "True", True),
        ("true", True, True),
        ("true", "false", False),
        ("true", False, False),
        ("true", "1", False),
        ("false", "false", True),
        ("false", False, True),
        ("false", "true", False),
    ],
)
def test_boolean_in_rule_matches_its_text(rule_value: str, value: Any, expected: bool) -> None:
    assert matches(field_rule("Enabled", rule_value), [{"Enabled": value}]) == [expected]


def test_decimal_number_in_rule_matches_its_text() -> None:
    rule = field_rule("Version", "2.5")
    events = [{"Version": "2.5"}, {"Version": 2.5}, {"Version": "2.50"}, {"Version": "25"}]
    assert matches(rule, events) == [True, True, False, False]


# -- keywords ----------------------------------------------------------------------------


def keywords_rule(*keywords: str) -> str:
    items = "\n".join(f"  - {k}" for k in keywords)
    return detection(f"keywords:\n{items}\ncondition: keywords\n")


def test_keyword_matches_when_any_field_contains_it() -> None:
    rule = keywords_rule("'mimikatz'")
    events = [
        {"CommandLine": "C:\\tools\\MimiKatz.exe privilege::debug"},
        {"ParentCommandLine": "run mimikatz now"},
        {"SomeUnmappedField": "xxMIMIKATZxx"},
        {"CommandLine": "notepad.exe", "ParentCommandLine": "explorer.exe"},
        {"CommandLine": "mimi katz"},
    ]
    assert matches(rule, events) == [True, True, True, False, False]


def test_keyword_list_is_ored() -> None:
    rule = keywords_rule("'sekurlsa'", "'lsadump'")
    events = [{"CommandLine": "x sekurlsa::logonpasswords"}, {"X": "LSADUMP::sam"}, {"X": "dump"}]
    assert matches(rule, events) == [True, True, False]


def test_keyword_wildcards() -> None:
    rule = keywords_rule("'invoke-*shellcode'", "'net? user'")
    events = [
        {"ScriptBlockText": "Invoke-Shellcode -Force"},
        {"ScriptBlockText": "Invoke-ReflectiveShellcode"},
        {"CommandLine": "net1 user /add"},
        {"CommandLine": "net user /add"},
        {"CommandLine": "invoke-shell code"},
    ]
    assert matches(rule, events) == [True, True, True, False, False]


def test_keyword_does_not_span_two_fields() -> None:
    rule = keywords_rule("'evil tool'", "'alpha*omega'")
    events = [
        {"A": "evil", "B": "tool"},
        {"A": "alpha", "B": "omega"},
        {"A": "an evil tool"},
        {"A": "alpha and omega"},
    ]
    assert matches(rule, events) == [False, False, True, True]


def test_keyword_number_is_searched_as_text() -> None:
    rule = keywords_rule("31337")
    events = [{"DestinationPort": "31337"}, {"CommandLine": "nc -l 313370"}, {"X": "3133"}]
    assert matches(rule, events) == [True, True, False]


def test_keyword_with_regex_modifier() -> None:
    rule = detection(
        r"""
        keywords:
          '|re': 'pass(word)?=\S{8,}'
        condition: keywords
        """
    )
    events = [
        {"CommandLine": "login password=hunter2hunter2"},
        {"X": "pass=short"},
        {"X": "PASS=abcdefghij"},
    ]
    assert matches(rule, events) == [True, False, False]


def test_cased_keyword() -> None:
    rule = detection(
        """
        keywords:
          '|cased': 'WhoAmI'
        condition: keywords
        """
    )
    events = [{"X": "run WhoAmI now"}, {"X": "run whoami now"}, {"X": "WHOAMI"}]
    assert matches(rule, events) == [True, False, False]


def test_all_keywords_each_in_any_field() -> None:
    rule = detection(
        """
        keywords:
          '|all': ['sekurlsa', 'logonpasswords']
        condition: keywords
        """
    )
    events = [
        {"CommandLine": "sekurlsa::logonpasswords"},
        {"CommandLine": "sekurlsa::x", "ParentCommandLine": "LogonPasswords"},
        {"CommandLine": "sekurlsa::tickets"},
        {"CommandLine": "logonpasswords"},
    ]
    assert matches(rule, events) == [True, True, False, False]


def test_keywords_combined_with_a_selection() -> None:
    rule = detection(
        r"""
        selection:
          Image|endswith: '\rundll32.exe'
        keywords:
          - 'javascript:'
        condition: selection and keywords
        """
    )
    events = [
        {"Image": "C:\\Windows\\rundll32.exe", "CommandLine": 'rundll32 javascript:"\\..\\mshtml"'},
        {"Image": "C:\\Windows\\rundll32.exe", "CommandLine": "rundll32 shell32.dll"},
        {"Image": "C:\\Windows\\cmd.exe", "CommandLine": "javascript:"},
    ]
    assert matches(rule, events) == [True, False, False]


def test_keyword_wildcard_inside_a_value_containing_unit_separator() -> None:
    assert matches(keywords_rule("'foo*bar'"), [{"Data": "foo\x1fbar"}]) == [True]


def test_keyword_regex_combined_with_a_literal_selection() -> None:
    rule = detection(
        r"""
        selection:
          Image|endswith: '\rundll32.exe'
        keywords:
          '|re': 'javascript:'
        condition: selection and keywords
        """
    )
    events = [
        {"Image": "C:\\Windows\\rundll32.exe", "CommandLine": "rundll32 javascript:x"},
        {"Image": "C:\\Windows\\rundll32.exe", "CommandLine": "rundll32 shell32.dll"},
        {"Image": "C:\\Windows\\cmd.exe", "CommandLine": "javascript:x"},
    ]
    assert matches(rule, events) == [True, False, False]

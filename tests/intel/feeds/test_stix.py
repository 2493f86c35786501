from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.intel.feeds.golden import DATA, parse
from watchkeeper.errors import InputError
from watchkeeper.intel.feeds import parse_stix, parse_stix_objects
from watchkeeper.intel.feeds.stixpattern import PatternRefused, reduce_pattern
from watchkeeper.intel.model import IndicatorIn, Kind

BUNDLE = DATA / "stix" / "bundle.json"


def by_value() -> dict[str, IndicatorIn]:
    return {indicator.value: indicator for indicator in parse("stix/bundle.json").indicators}


def indicator(pattern: str, **extra: Any) -> dict[str, Any]:
    return {"type": "indicator", "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2024-01-01T00:00:00Z", "modified": "2024-01-02T00:00:00Z",
            "pattern": pattern, "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z",
            **extra}


def test_tlp_markings_of_both_versions_and_of_the_bundle() -> None:
    found = by_value()
    assert found["198.51.100.7"].tlp == "clear"  # TLP 1.0 white
    assert found["192.0.2.0/24"].tlp == "amber+strict"  # TLP 2.0
    assert found["http://bad.example.net/a"].tlp == "red"  # the narrowest of two
    assert found["d41d8cd98f00b204e9800998ecf8427e"].tlp == "green"  # definition_type tlp
    assert found["phish@example.org"].tlp == "amber+strict"  # a tlp_2_0 extension
    assert found["invoice.pdf.exe"].tlp == "amber"  # no marking


def test_relationships_give_threat_and_technique() -> None:
    found = by_value()
    dropper = found["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]
    assert (dropper.threat, dropper.attack) == ("ExampleBot", ("T1204.002",))
    assert found["https://bad.example.net/b"].threat == "Example Set"
    assert found["192.0.2.0/24"].threat is None  # related-to is not indicates


def test_indicator_details() -> None:
    c2 = by_value()["198.51.100.7"]
    assert c2.confidence == 80
    assert c2.tags == ("c2", "botnet", "malicious-activity")
    assert c2.first_seen == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert c2.valid_until == datetime(2024, 6, 1, tzinfo=UTC)  # expired, still returned
    assert c2.external_id == "indicator--00000006-0000-4000-8000-000000000006"
    assert c2.description == "ExampleBot command server"


def test_observables_have_lower_confidence_and_parts_are_not_taken() -> None:
    found = by_value()
    assert found["203.0.113.9"].confidence == 30
    assert "203.0.113.10" not in found  # what sco.example.net resolves to
    assert "sender@example.com" not in found  # the sender of an e-mail message


def test_revoked_indicator_is_withdrawn_and_cursor_is_newest_modified() -> None:
    result = parse("stix/bundle.json")
    assert result.withdrawn == [(Kind.DOMAIN, "old.example.com")]
    assert "old.example.com" not in by_value()
    assert result.cursor == "2024-03-05T08:30:00.250000Z"


def test_skipped_indicators_say_which_and_why() -> None:
    problems = {problem.where.split(": ")[1]: problem.reason
                for problem in parse("stix/bundle.json").problems}
    assert "LIKE" in problems["indicator--0000000e-0000-4000-8000-00000000000e"]
    assert "yara" in problems["indicator--00000010-0000-4000-8000-000000000010"]
    assert "pattern" in problems["indicator--0000000f-0000-4000-8000-00000000000f"]


@pytest.mark.parametrize(("pattern", "expected"), [
    ("[file:hashes.'SHA-256' = 'AA' AND file:name = 'x']", [(Kind.SHA256, "AA")]),
    ("[url:value = 'u' AND domain-name:value = 'd']", "same object type"),
    ("[file:name = 'x' AND file:hashes.MD5 = 'm']", [(Kind.MD5, "m")]),
    ("[file:hashes.sha1 = 'a' AND file:size > 10]", [(Kind.SHA1, "a")]),
    ("[ipv6-addr:value IN ('2001:db8::/32', '2001:db8::1')]",
     [(Kind.CIDR, "2001:db8::/32"), (Kind.IPV6, "2001:db8::1")]),
    ("[ipv4-addr:value = '1'] AND [ipv4-addr:value = '2']", "between observations"),
    ("[ipv4-addr:value MATCHES '^1']", "MATCHES"),
    ("[ipv4-addr:value NOT = '1']", "NOT is not supported"),
    ("[process:name = 'x']", "object path not supported"),
    ("[ipv4-addr:value = 1]", "non-text"),
])
def test_pattern_reduction(pattern: str, expected: list[tuple[Kind, str]] | str) -> None:
    if isinstance(expected, str):
        with pytest.raises(PatternRefused) as refused:
            reduce_pattern(pattern)
        assert expected in str(refused.value)
    else:
        assert [(value.kind, value.value) for value in reduce_pattern(pattern).values] \
            == expected


def test_and_is_noted_in_the_description() -> None:
    result = parse_stix_objects(
        [indicator("[file:name = 'a.exe' AND file:hashes.MD5 = "
                   "'0cc175b9c0f1b6a831c399e269772661']", description="loader")], "t")
    assert [i.description for i in result.indicators] == [
        "loader; the pattern also requires file:name = 'a.exe'"]


def test_one_broken_object_leaves_the_others() -> None:
    objects = [indicator("[ipv4-addr:value = '192.0.2.1']"),
               {"type": "indicator", "id": "indicator--bad", "pattern": "x"},
               42,
               indicator("[domain-name:value = 'fine.example.org']",
                         id="indicator--0b9fd0a6-8a04-4a45-9d5a-0d4b7d9b6f11")]
    result = parse_stix_objects(objects, "t")
    assert [i.value for i in result.indicators] == ["192.0.2.1", "fine.example.org"]
    assert [problem.where for problem in result.problems] == [
        "t: indicator--bad", "t: objects[2]"]


@pytest.mark.parametrize("shape", ["envelope", "list"])
def test_envelope_and_list_read_like_a_bundle(shape: str) -> None:
    objects = json.loads(BUNDLE.read_bytes())["objects"]
    doc = {"objects": objects, "more": False} if shape == "envelope" else objects
    again = parse_stix(json.dumps(doc).encode(), "bundle.json")
    assert again == parse("stix/bundle.json")


def test_objects_without_spec_version_are_read_as_2_1() -> None:
    bare = {key: value for key, value in indicator("[url:value = 'http://x.example.com']").items()
            if key != "spec_version"}
    result = parse_stix_objects([bare], "t")
    assert ([i.value for i in result.indicators], result.problems) == (
        ["http://x.example.com/"], [])


def test_empty_bundle() -> None:
    result = parse_stix(b'{"type": "bundle", "id": "bundle--x"}', "t")
    assert (result.indicators, result.problems, result.cursor) == ([], [], None)


@pytest.mark.parametrize(("data", "message"), [
    (b"{not json", "not JSON"),
    (b'{"type": "indicator"}', "not STIX content"),
    (b'"text"', "not STIX content"),
])
def test_whole_document_problems_raise(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_stix(data, "t")


def test_oversized_document_is_refused_before_parsing() -> None:
    with pytest.raises(InputError, match="more than the 100 a feed may have"):
        parse_stix(BUNDLE.read_bytes(), "t", max_bytes=100)

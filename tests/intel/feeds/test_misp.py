from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.intel.feeds.golden import DATA, parse
from watchkeeper.errors import InputError
from watchkeeper.intel.feeds import changed_events, parse_misp_event, read_manifest
from watchkeeper.intel.feeds.misp import ManifestEntry
from watchkeeper.intel.model import IndicatorIn, Kind

FIRST = "misp/5f0c2a7e-1b3d-4c8e-9f10-2a3b4c5d6e01.json"
SECOND = "misp/5f0c2a7e-1b3d-4c8e-9f10-2a3b4c5d6e02.json"


def by_value(name: str) -> dict[str, IndicatorIn]:
    return {indicator.value: indicator for indicator in parse(name).indicators}


def test_manifest_and_changed_events() -> None:
    manifest = read_manifest((DATA / "misp" / "manifest.json").read_bytes())
    assert manifest == [
        ManifestEntry("5f0c2a7e-1b3d-4c8e-9f10-2a3b4c5d6e01", 1709287200,
                      "ExampleBot infrastructure"),
        ManifestEntry("5f0c2a7e-1b3d-4c8e-9f10-2a3b4c5d6e02", 1709546400,
                      "Phishing wave with invoice lures"),
    ]
    assert changed_events(manifest, None) == [entry.uuid for entry in manifest]
    assert changed_events(manifest, 1709287200) == ["5f0c2a7e-1b3d-4c8e-9f10-2a3b4c5d6e02"]
    assert changed_events(manifest, 1709546400) == []


@pytest.mark.parametrize(("data", "message"), [
    (b"[]", "not a MISP manifest"),
    (b'{"u": {"info": "x"}}', "event u has no timestamp"),
    (b"nope", "not JSON"),
])
def test_bad_manifest(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_manifest(data)


def test_composite_types_give_both_parts() -> None:
    found = by_value(FIRST)
    assert found["c2.example.net"].kind is Kind.DOMAIN
    assert found["198.51.100.21"].external_id == found["c2.example.net"].external_id
    assert found["2001:db8::20"].kind is Kind.IPV6  # ip-dst|port: the address only
    assert found["203.0.113.0/25"].kind is Kind.CIDR
    second = by_value(SECOND)
    assert (second["loader.dll"].kind, second["da39a3ee5e6b4b0d3255bfef95601890afd80709"].kind) \
        == (Kind.FILENAME, Kind.SHA1)


def test_tlp_attribute_then_event_then_amber() -> None:
    found, second = by_value(FIRST), by_value(SECOND)
    assert found["198.51.100.20"].tlp == "amber"  # the attribute's tag over the event's
    assert found["c2.example.net"].tlp == "green"  # the event's
    assert second["billing@invoices.example.com"].tlp == "amber"  # none
    assert second["loader.dll"].tlp == "clear"


def test_galaxies_give_threat_and_technique() -> None:
    found = by_value(FIRST)
    assert found["198.51.100.20"].threat == "Example Spider"
    assert found["c2.example.net"].threat == "ExampleBot"  # the attribute's own first
    assert found["198.51.100.20"].attack == ("T1071.001",)
    assert 'misp-galaxy:sector="Finance"' in found["198.51.100.20"].tags
    lure = by_value(SECOND)["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
    assert lure.attack == ("T1204.002",)
    assert lure.tlp == "amber+strict"


def test_confidence_from_threat_level_and_taxonomy() -> None:
    assert by_value(FIRST)["198.51.100.20"].confidence == 75  # threat level 1
    assert by_value(FIRST)["ExampleBot/2.1"].confidence == 50  # fairly-confident
    assert by_value(SECOND)["loader.dll"].confidence == 30  # threat level 3


def test_seen_times() -> None:
    found = by_value(FIRST)
    assert found["203.0.113.0/25"].first_seen == datetime(2024, 2, 20, 8, tzinfo=UTC)
    assert found["203.0.113.0/25"].last_seen == datetime(2024, 2, 28, 18, 30, tzinfo=UTC)
    stamp = datetime.fromtimestamp(1709287000, UTC)
    assert (found["198.51.100.20"].first_seen, found["198.51.100.20"].last_seen) \
        == (stamp, stamp)


def test_not_for_detection_or_deleted_is_withdrawn() -> None:
    assert parse(FIRST).withdrawn == [(Kind.DOMAIN, "cdn.example.org"),
                                      (Kind.URL, "http://c2.example.net/gate.php")]
    assert "cdn.example.org" not in by_value(FIRST)
    assert (Kind.MD5, "d41d8cd98f00b204e9800998ecf8427e") in parse(SECOND).withdrawn
    assert "https://blog.example.com/examplebot" not in by_value(FIRST)  # link: never
    assert (Kind.IPV4, "192.0.2.99") in parse(SECOND).withdrawn  # its object is deleted
    assert "192.0.2.99" not in by_value(SECOND)


def test_problems_and_cursor() -> None:
    result = parse(FIRST)
    assert [problem.where.rsplit(" ", 1)[1] for problem in result.problems] == [
        "6a000000-0000-4000-8000-00000000000b", "6a000000-0000-4000-8000-00000000000c"]
    assert result.cursor == "1709287200"


def test_bare_event_and_broken_attributes() -> None:
    event = {"timestamp": 5, "Attribute": [
        "junk", {"type": "domain", "value": "ok.example.com", "to_ids": True}]}
    result = parse_misp_event(json.dumps(event).encode(), "e")
    assert [i.value for i in result.indicators] == ["ok.example.com"]
    assert [p.reason for p in result.problems] == ["not an attribute object"]
    assert result.cursor == "5"


@pytest.mark.parametrize("data", [b"[]", b'{"Event": {"Attribute": 3}}', b"{"])
def test_not_an_event(data: bytes) -> None:
    with pytest.raises(InputError):
        parse_misp_event(data, "e")

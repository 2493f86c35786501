from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import stix2
from stix2patterns.validator import validate

from watchkeeper.errors import InputError
from watchkeeper.intel.export import (
    TLP_MARKINGS,
    export_bundle,
    object_for,
    pattern_for,
    stix_id,
)
from watchkeeper.intel.model import Kind, StoredIndicator, StoredSighting, normalize

T0 = datetime(2025, 1, 10, 8, 30, tzinfo=UTC)
NOW = datetime(2025, 6, 1, tzinfo=UTC)

VALUES = {
    Kind.IPV4: "203.0.113.9",
    Kind.IPV6: "2001:db8::bad",
    Kind.CIDR: "198.51.100.0/24",
    Kind.DOMAIN: "c2.example.com",
    Kind.URL: "https://evil.example.net/drop?id=1",
    Kind.MD5: "d41d8cd98f00b204e9800998ecf8427e",
    Kind.SHA1: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    Kind.SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    Kind.EMAIL: "billing@invoices.example.org",
    Kind.FILENAME: "invoice'2025\\final.exe".replace("\\", "_"),
    Kind.USER_AGENT: "Mozilla/5.0 (X11; 'quoted' \\ back)",
    Kind.JA3: "e7d705a3286e19ea42f587b344ee6865",
    Kind.JA4: "t13d1516h2_8daaf6152771_e5627efa2ab1",
    Kind.CVE: "CVE-2024-3094",
}


def indicator(number: int, kind: Kind, value: str, **changes: Any) -> StoredIndicator:
    base = StoredIndicator(
        id=number, kind=kind, value=normalize(kind, value), confidence=70, tlp="green",
        sources=("feed",), tags=("c2",), attack=(), threat=None, description="",
        first_seen=T0, last_seen=T0 + timedelta(days=3), valid_until=None, created_at=T0,
        updated_at=T0 + timedelta(days=3), sightings=0, false_positives=0, last_sighting=None,
        score=70, active=True,
    )
    return replace(base, **changes)


def parse(bundle: dict[str, Any]) -> Any:
    """Parse as a STIX consumer would, after a JSON round trip, and check every pattern."""
    parsed = stix2.parse(json.loads(json.dumps(bundle)), allow_custom=True)
    for obj in bundle["objects"]:
        if obj["type"] == "indicator":
            valid, errors = validate(obj["pattern"], ret_errs=True, stix_version="2.1")
            assert valid, (obj["pattern"], errors)
    return parsed


def by_type(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in bundle["objects"] if obj["type"] == kind]


def test_every_kind_exports_and_parses() -> None:
    stored = [indicator(n, kind, value) for n, (kind, value) in enumerate(VALUES.items())]
    bundle = export_bundle(stored, [], max_tlp="red", now=NOW)
    parsed = parse(bundle)
    assert len(parsed.objects) == len(bundle["objects"])
    patterns = {obj["name"]: obj["pattern"] for obj in by_type(bundle, "indicator")}
    assert len(patterns) == len(VALUES) - 1
    assert patterns["203.0.113.9"] == "[ipv4-addr:value = '203.0.113.9']"
    assert patterns["2001:db8::bad"] == "[ipv6-addr:value = '2001:db8::bad']"
    assert patterns["198.51.100.0/24"] == "[ipv4-addr:value = '198.51.100.0/24']"
    assert patterns[VALUES[Kind.SHA256]] == f"[file:hashes.'SHA-256' = '{VALUES[Kind.SHA256]}']"
    assert patterns[VALUES[Kind.MD5]].startswith("[file:hashes.MD5 = ")
    assert patterns[VALUES[Kind.SHA1]].startswith("[file:hashes.'SHA-1' = ")
    assert patterns[VALUES[Kind.EMAIL]].startswith("[email-addr:value = ")
    assert patterns[VALUES[Kind.JA3]].startswith("[network-traffic:x_watchkeeper_ja3 = ")
    assert patterns[VALUES[Kind.JA4]].startswith("[network-traffic:x_watchkeeper_ja4 = ")
    assert "http-request-ext" in patterns[VALUES[Kind.USER_AGENT]]
    (vulnerability,) = by_type(bundle, "vulnerability")
    assert vulnerability["name"] == "CVE-2024-3094"
    assert vulnerability["external_references"] == [
        {"source_name": "cve", "external_id": "CVE-2024-3094"}]


def test_indicator_properties() -> None:
    stored = indicator(1, Kind.DOMAIN, "c2.example.com", tlp="amber", confidence=85,
                       valid_until=T0 + timedelta(days=30), description="C2 of the week")
    obj = object_for(stored)
    assert obj is not None
    assert obj["id"] == stix_id("indicator", "domain:c2.example.com")
    assert obj["valid_from"] == "2025-01-10T08:30:00.000Z"
    assert obj["valid_until"] == "2025-02-09T08:30:00.000Z"
    assert obj["created"] == "2025-01-10T08:30:00.000Z"
    assert obj["modified"] == "2025-01-13T08:30:00.000Z"
    assert obj["confidence"] == 85
    assert obj["labels"] == ["c2"]
    assert obj["indicator_types"] == ["malicious-activity"]
    assert obj["object_marking_refs"] == [TLP_MARKINGS["amber"]]
    assert obj["created_by_ref"] == stix_id("identity", "Watchkeeper")
    assert obj["description"] == "C2 of the week"
    # a valid_until not after valid_from is left out: STIX refuses it
    same_day = object_for(replace(stored, valid_until=T0))
    assert same_day is not None
    assert "valid_until" not in same_day


def test_tlp_filtering_and_markings() -> None:
    stored = [indicator(n, Kind.IPV4, f"203.0.113.{n}", tlp=tlp)
              for n, tlp in enumerate(["clear", "green", "amber", "amber+strict", "red"], 1)]
    bundle = export_bundle(stored, [], max_tlp="TLP:AMBER", now=NOW)
    parse(bundle)
    names = sorted(obj["name"] for obj in by_type(bundle, "indicator"))
    assert names == ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
    markings = {obj["id"]: obj for obj in by_type(bundle, "marking-definition")}
    assert set(markings) == {TLP_MARKINGS[t] for t in ("clear", "green", "amber")}
    assert markings[TLP_MARKINGS["amber"]]["name"] == "TLP:AMBER"
    refs = {obj["name"]: obj["object_marking_refs"] for obj in by_type(bundle, "indicator")}
    assert refs["203.0.113.1"] == [TLP_MARKINGS["clear"]]
    clear_only = export_bundle(stored, [], max_tlp="white", now=NOW)
    assert [obj["name"] for obj in by_type(clear_only, "indicator")] == ["203.0.113.1"]
    assert len(by_type(export_bundle(stored, [], max_tlp="red", now=NOW), "indicator")) == 5


def test_ids_are_deterministic() -> None:
    stored = [indicator(1, Kind.SHA256, VALUES[Kind.SHA256], threat="Emotet",
                        attack=("T1071.001",))]
    sightings = [StoredSighting(7, 1, "seen", T0, "system")]
    first = export_bundle(stored, sightings, max_tlp="red", now=NOW)
    again = export_bundle(stored, sightings, max_tlp="red", now=NOW + timedelta(days=1),
                          identity="Watchkeeper")
    assert [o["id"] for o in first["objects"]] == [o["id"] for o in again["objects"]]
    assert first["id"] != again["id"]  # the bundle is only the envelope
    other = export_bundle(stored, sightings, max_tlp="red", now=NOW, identity="SOC East")
    assert by_type(other, "identity")[0]["id"] != by_type(first, "identity")[0]["id"]
    assert by_type(other, "indicator")[0]["created_by_ref"] == by_type(other, "identity")[0]["id"]


def test_quotes_and_backslashes_are_escaped() -> None:
    pattern = pattern_for(Kind.USER_AGENT, "it's a \\ test")
    assert pattern.endswith("= 'it\\'s a \\\\ test']")
    assert validate(pattern, stix_version="2.1")
    bundle = export_bundle([indicator(1, Kind.URL, "http://x.example/a'b\\c")], [],
                           max_tlp="red", now=NOW)
    parsed = parse(bundle)
    (obj,) = [o for o in parsed.objects if o.type == "indicator"]
    assert obj.pattern == "[url:value = 'http://x.example/a\\'b\\\\c']"


def test_cve_has_no_pattern() -> None:
    with pytest.raises(InputError, match="vulnerability"):
        pattern_for(Kind.CVE, "CVE-2024-3094")


def test_threat_and_techniques_become_relationships() -> None:
    stored = [
        indicator(1, Kind.DOMAIN, "c2.example.com", threat="Emotet", attack=("T1071.001",)),
        indicator(2, Kind.IPV4, "203.0.113.5", threat="emotet", tlp="amber"),
        indicator(3, Kind.CVE, "CVE-2024-3094", threat="Emotet", attack=("T1190",)),
    ]
    bundle = export_bundle(stored, [], max_tlp="amber", now=NOW)
    parse(bundle)
    (malware,) = by_type(bundle, "malware")
    assert malware["name"] == "Emotet"
    assert malware["id"] == stix_id("malware", "emotet")
    # shared objects carry the most restrictive TLP of what refers to them
    assert malware["object_marking_refs"] == [TLP_MARKINGS["amber"]]
    patterns = {obj["name"]: obj for obj in by_type(bundle, "attack-pattern")}
    assert patterns["T1071.001"]["external_references"] == [{
        "source_name": "mitre-attack", "external_id": "T1071.001",
        "url": "https://attack.mitre.org/techniques/T1071/001/"}]
    ids = {obj["name"]: obj["id"] for obj in bundle["objects"] if "name" in obj}
    edges = {(r["source_ref"], r["relationship_type"], r["target_ref"])
             for r in by_type(bundle, "relationship")}
    assert edges == {
        (ids["c2.example.com"], "indicates", malware["id"]),
        (ids["c2.example.com"], "indicates", ids["T1071.001"]),
        (ids["203.0.113.5"], "indicates", malware["id"]),
        (malware["id"], "exploits", ids["CVE-2024-3094"]),
        (ids["T1190"], "targets", ids["CVE-2024-3094"]),
    }


def test_sightings() -> None:
    stored = [indicator(1, Kind.IPV4, "203.0.113.7"),
              indicator(2, Kind.IPV4, "203.0.113.8", tlp="red")]
    sightings = [
        StoredSighting(10, 1, "seen", T0 + timedelta(days=1), "system", count=4, event_id="e1"),
        StoredSighting(11, 1, "false-positive", T0 + timedelta(days=2), "alice",
                       note="our scanner"),
        StoredSighting(12, 2, "seen", T0, "system"),  # of a red indicator: left out
    ]
    bundle = export_bundle(stored, sightings, max_tlp="amber", now=NOW)
    parse(bundle)
    seen, false_positive = by_type(bundle, "sighting")
    target = by_type(bundle, "indicator")[0]["id"]
    assert seen["sighting_of_ref"] == target
    assert seen["count"] == 4
    assert seen["first_seen"] == seen["last_seen"] == "2025-01-11T08:30:00.000Z"
    assert "x_watchkeeper_false_positive" not in seen
    assert false_positive["x_watchkeeper_false_positive"] is True
    # the analyst's name and note are not shared
    assert false_positive["description"] == "Reported as a false positive"
    assert "alice" not in orjson.dumps(bundle).decode()
    assert "our scanner" not in orjson.dumps(bundle).decode()
    assert false_positive["object_marking_refs"] == [TLP_MARKINGS["green"]]
    assert false_positive["id"] == stix_id("sighting", "11")


def test_an_export_reads_back_as_the_same_indicators() -> None:
    """Every kind with a pattern comes back from the STIX importer as it went out."""
    from watchkeeper.intel.feeds.stix import parse_stix

    stored = [indicator(n, kind, value) for n, (kind, value) in enumerate(VALUES.items(), 1)
              if kind is not Kind.CVE]
    bundle = export_bundle(stored, [], max_tlp="amber", now=NOW)
    back = parse_stix(orjson.dumps(bundle), "round-trip")
    assert back.problems == []
    assert sorted((i.kind, i.value) for i in back.indicators) == sorted(
        (s.kind, s.value) for s in stored)

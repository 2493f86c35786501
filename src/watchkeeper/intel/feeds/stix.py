"""STIX 2.1 content (a bundle, a TAXII envelope, a list of objects) as indicators.

Indicators with a ``stix`` pattern give the values their pattern reduces to (see
:mod:`.stixpattern`); other pattern languages (Sigma, YARA, Snort…) are skipped as
problems. Cyber observables in the content (``ipv4-addr``, ``ipv6-addr``,
``domain-name``, ``url``, ``email-addr``, ``file`` hashes) become indicators too, at
confidence :data:`OBSERVABLE_CONFIDENCE`, since a producer sharing a bare observable
vouches for it less than for an indicator; an observable another observable refers to
(the sender of an e-mail, an address a domain resolves to) is a part of that one and
is not taken on its own. ``indicates`` relationships name the threat (malware, actor,
intrusion set, campaign, tool) and the ATT&CK techniques (attack patterns). Revoked
indicators are withdrawn; expired ones are still returned, the store decides.

Each object is checked with the ``stix2`` library; one that fails is a problem and the
others still count.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import stix2  # type: ignore[import-untyped]
from stix2.exceptions import STIXError  # type: ignore[import-untyped]

from watchkeeper.errors import InputError
from watchkeeper.intel.feeds.common import (
    MAX_BYTES,
    add,
    iso,
    load_json,
    parse_time,
    unique,
    withdraw,
)
from watchkeeper.intel.feeds.stixpattern import PatternRefused, reduce_pattern
from watchkeeper.intel.model import FeedProblem, FeedResult, Kind, tlp_label, tlp_rank

OBSERVABLE_CONFIDENCE = 30
INDICATOR_CONFIDENCE = 50
TLP_MARKINGS = {
    # TLP 1.0, predefined by STIX 2.1 (section 7.2.1.4)
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
    # TLP 2.0, published by the OASIS CTI TC as common objects
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "clear",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "green",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "amber",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "amber+strict",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "red",
}
THREATS = frozenset({"malware", "threat-actor", "intrusion-set", "campaign", "tool"})
OBSERVABLES = {"ipv4-addr": Kind.IPV4, "ipv6-addr": Kind.IPV6, "domain-name": Kind.DOMAIN,
               "url": Kind.URL, "email-addr": Kind.EMAIL}
FILE_HASHES = {"MD5": Kind.MD5, "SHA1": Kind.SHA1, "SHA256": Kind.SHA256}


def parse_stix(data: bytes, source: str, *, max_bytes: int = MAX_BYTES) -> FeedResult:
    """The indicators of a STIX document; :class:`InputError` when the whole document
    cannot be read (too large, not JSON, not STIX content)."""
    doc = load_json(data, source, max_bytes)
    if isinstance(doc, dict) and isinstance(doc.get("objects"), list):
        objects = doc["objects"]  # a bundle or a TAXII envelope
    elif isinstance(doc, dict) and doc.get("type") == "bundle":
        objects = []  # a bundle with nothing in it
    elif isinstance(doc, list):
        objects = doc
    else:
        raise InputError("not STIX content: expected a bundle, an envelope with objects "
                         "or a list of objects", location=source)
    return parse_stix_objects(objects, source)


def parse_stix_objects(objects: list[Any], source: str) -> FeedResult:
    """The indicators of these STIX objects (one TAXII page, a bundle's objects)."""
    result = FeedResult([], [])
    valid: dict[str, dict[str, Any]] = {}
    for index, obj in enumerate(objects):
        where = f"{source}: objects[{index}]"
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            result.problems.append(FeedProblem(where, "not a STIX object (no id)"))
            continue
        try:
            if obj.get("type") != "marking-definition":  # see _marking_tlp
                stix2.parse(obj, allow_custom=True, version=str(obj.get("spec_version", "2.1")))
        except (STIXError, ValueError, TypeError, KeyError) as exc:
            result.problems.append(FeedProblem(f"{source}: {obj['id']}", f"invalid: {exc}"))
            continue
        valid[obj["id"]] = obj
    context = _Context(valid, source)
    for obj in valid.values():
        if obj.get("type") == "indicator":
            _indicator(obj, context, result)
        elif (obj.get("type") in OBSERVABLES or obj.get("type") == "file") \
                and obj["id"] not in context.parts:
            _observable(obj, context, result)
    newest = max((stamp for obj in valid.values() if (stamp := _time(obj, "modified"))),
                 default=None)
    result.cursor = iso(newest) if newest else None
    return result


class _Context:
    """What the other objects say about one: its TLP, the threat and the techniques it
    indicates, whether it is a part of an observable."""

    def __init__(self, objects: dict[str, dict[str, Any]], source: str) -> None:
        self.source = source
        self.markings = dict(TLP_MARKINGS)
        for obj in objects.values():
            if obj.get("type") == "marking-definition" and (level := _marking_tlp(obj)):
                self.markings[obj["id"]] = level
        self.threats: dict[str, list[str]] = {}
        self.attack: dict[str, list[str]] = {}
        self.parts: set[str] = set()
        for obj in objects.values():
            if obj.get("type") == "relationship" and obj.get("relationship_type") == "indicates":
                self._indicates(str(obj.get("source_ref")), objects.get(obj.get("target_ref", "")))
            elif "created" not in obj:  # a cyber observable: its references are its parts
                self.parts.update(_refs(obj))

    def _indicates(self, indicator: str, target: dict[str, Any] | None) -> None:
        if target is None:
            return
        if target.get("type") in THREATS and isinstance(target.get("name"), str):
            self.threats.setdefault(indicator, []).append(target["name"])
        elif target.get("type") == "attack-pattern":
            for ref in target.get("external_references") or []:
                if isinstance(ref, dict) and ref.get("source_name") == "mitre-attack" \
                        and isinstance(ref.get("external_id"), str):
                    self.attack.setdefault(indicator, []).append(ref["external_id"])

    def tlp(self, obj: dict[str, Any]) -> str | None:
        """The narrowest TLP among the object's markings; None when it has none."""
        levels = [self.markings[ref] for ref in obj.get("object_marking_refs") or []
                  if isinstance(ref, str) and ref in self.markings]
        return max(levels, key=tlp_rank) if levels else None


def _marking_tlp(obj: dict[str, Any]) -> str | None:
    """The TLP a marking definition stands for, read by hand: ``stix2`` refuses TLP
    markings under other ids than the predefined ones, and feeds do publish those."""
    candidates = []
    definition = obj.get("definition")
    if obj.get("definition_type") == "tlp" and isinstance(definition, dict):
        candidates.append(definition.get("tlp"))
    for extension in (obj.get("extensions") or {}).values():
        if isinstance(extension, dict):
            candidates.append(extension.get("tlp_2_0"))
    name = obj.get("name")
    if isinstance(name, str) and name.upper().startswith("TLP:"):
        candidates.append(name)
    for candidate in candidates:
        if isinstance(candidate, str):
            try:
                return tlp_label(candidate)
            except InputError:
                continue
    return None


def _refs(obj: dict[str, Any]) -> list[str]:
    """Every id the object refers to (``*_ref``, ``*_refs``, also inside extensions)."""
    found: list[str] = []
    for key, value in obj.items():
        if key.endswith("_ref") and isinstance(value, str):
            found.append(value)
        elif key.endswith("_refs") and isinstance(value, list):
            found.extend(item for item in value if isinstance(item, str))
        elif isinstance(value, dict):
            found.extend(_refs(value))
    return found


def _indicator(obj: dict[str, Any], context: _Context, result: FeedResult) -> None:
    where = f"{context.source}: {obj['id']}"
    pattern_type = obj.get("pattern_type", "stix")
    if pattern_type != "stix":
        result.problems.append(FeedProblem(where, f"pattern type {pattern_type!r} is not "
                                                  "supported, only 'stix'"))
        return
    try:
        reduced = reduce_pattern(str(obj.get("pattern", "")))
    except PatternRefused as exc:
        result.problems.append(FeedProblem(where, str(exc)))
        return
    if obj.get("revoked") is True:
        for value in reduced.values:
            withdraw(result, value.kind, value.value)
        return
    text = str(obj.get("description") or obj.get("name") or "")
    description = "; ".join(part for part in (text, *reduced.notes) if part)
    threats = context.threats.get(obj["id"], [])
    details = _details(obj, context, INDICATOR_CONFIDENCE)
    details |= {
        "description": description,
        "tags": unique([*_texts(obj.get("labels")), *_texts(obj.get("indicator_types"))]),
        "threat": threats[0] if threats else None,
        "attack": unique(context.attack.get(obj["id"], [])),
        "first_seen": _time(obj, "valid_from"),
        "last_seen": _time(obj, "modified"),
        "valid_until": _time(obj, "valid_until"),
    }
    for value in reduced.values:
        add(result, where, value.kind, value.value, context.source, **details)


def _observable(obj: dict[str, Any], context: _Context, result: FeedResult) -> None:
    where = f"{context.source}: {obj['id']}"
    details = _details(obj, context, OBSERVABLE_CONFIDENCE)
    details["tags"] = unique(_texts(obj.get("labels")))
    if obj["type"] != "file":
        value = str(obj.get("value", ""))
        kind = OBSERVABLES[obj["type"]]
        if kind in (Kind.IPV4, Kind.IPV6) and "/" in value:
            kind = Kind.CIDR
        add(result, where, kind, value, context.source, **details)
        return
    for name, digest in (obj.get("hashes") or {}).items():
        hashed = FILE_HASHES.get(str(name).upper().replace("-", "").replace("_", ""))
        if hashed is not None and isinstance(digest, str):
            add(result, where, hashed, digest, context.source, **details)


def _details(obj: dict[str, Any], context: _Context, confidence: int) -> dict[str, object]:
    found = obj.get("confidence")
    return {"confidence": found if isinstance(found, int) else confidence,
            "tlp": context.tlp(obj), "external_id": obj["id"]}


def _texts(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _time(obj: dict[str, Any], key: str) -> datetime | None:
    try:
        return parse_time(obj.get(key))
    except InputError:
        return None  # the stix2 check already refused malformed timestamps

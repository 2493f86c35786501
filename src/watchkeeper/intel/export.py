"""STIX 2.1 export of stored indicators and their sightings, as plain JSON-ready dicts.

Ids are deterministic (UUIDv5 over the kind and value, the threat name, the technique id…)
so a consumer that pulls twice updates its objects instead of duplicating them. TLP uses
the TLP 2.0 marking definitions OASIS publishes; they are not predefined in STIX 2.1, so
the ones in use are included in the bundle.

Custom properties, all prefixed ``x_watchkeeper_``:

- ``x_watchkeeper_ja3`` / ``x_watchkeeper_ja4`` on ``network-traffic`` in patterns: STIX
  has no property for TLS client fingerprints.
- ``x_watchkeeper_false_positive: true`` on a sighting an analyst reported as a false
  positive: STIX's ``summary`` means something else, and a flag a consumer can filter on
  beats words in the description (which says it as well, for people).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from watchkeeper.errors import InputError
from watchkeeper.intel.model import Kind, StoredIndicator, StoredSighting, tlp_label, tlp_rank

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:watchkeeper:stix")
"""The namespace of every id Watchkeeper gives a STIX object."""
TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_MARKINGS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
"""The TLP 2.0 marking definitions, as OASIS publishes them (cti-stix-common-objects)."""
_PATHS = {
    Kind.IPV4: "ipv4-addr:value",
    Kind.IPV6: "ipv6-addr:value",
    Kind.DOMAIN: "domain-name:value",
    Kind.URL: "url:value",
    Kind.MD5: "file:hashes.MD5",
    Kind.SHA1: "file:hashes.'SHA-1'",
    Kind.SHA256: "file:hashes.'SHA-256'",
    Kind.EMAIL: "email-addr:value",
    Kind.FILENAME: "file:name",
    Kind.USER_AGENT: "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'",
    Kind.JA3: "network-traffic:x_watchkeeper_ja3",
    Kind.JA4: "network-traffic:x_watchkeeper_ja4",
}


def stix_id(kind: str, key: str) -> str:
    """The deterministic id of a ``kind`` object (``indicator``, ``malware``…) for ``key``."""
    return f"{kind}--{uuid.uuid5(NAMESPACE, f'{kind}:{key}')}"


def shared_id(kind: Kind, value: str) -> str:
    """The id an indicator is shared under: its STIX indicator (a CVE: its vulnerability),
    the same in every export, so that the store can index it."""
    if kind is Kind.CVE:
        return stix_id("vulnerability", value)
    return stix_id("indicator", f"{kind.value}:{value}")


def timestamp(moment: datetime) -> str:
    """A STIX timestamp: UTC, milliseconds, ``Z``. A naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def pattern_for(kind: Kind, value: str) -> str:
    """The STIX pattern for one value; a CIDR is written as an address value, as STIX
    allows. :class:`InputError` for a CVE, which is exported as a vulnerability."""
    literal = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if kind is Kind.CIDR:
        path = "ipv6-addr:value" if ":" in value else "ipv4-addr:value"
    elif kind in _PATHS:
        path = _PATHS[kind]
    else:
        raise InputError(f"a {kind} is exported as a STIX vulnerability, not a pattern")
    return f"[{path} = {literal}]"


def identity_object(name: str, now: datetime) -> dict[str, Any]:
    stamp = timestamp(now)
    return {"type": "identity", "spec_version": "2.1", "id": stix_id("identity", name),
            "created": stamp, "modified": stamp, "name": name, "identity_class": "system"}


def object_for(
    indicator: StoredIndicator, *, identity: str = "Watchkeeper"
) -> dict[str, Any] | None:
    """The STIX object for one stored indicator: an ``indicator``, or a ``vulnerability``
    for a CVE. None for a kind with no STIX form (every kind has one at present)."""
    common: dict[str, Any] = {
        "spec_version": "2.1",
        "created": timestamp(indicator.created_at),
        "modified": timestamp(indicator.updated_at),
        "created_by_ref": stix_id("identity", identity),
        "confidence": indicator.confidence,
        "object_marking_refs": [TLP_MARKINGS[tlp_label(indicator.tlp)]],
    }
    if indicator.tags:
        common["labels"] = list(indicator.tags)
    if indicator.description:
        common["description"] = indicator.description
    if indicator.kind is Kind.CVE:
        return {"type": "vulnerability", "id": shared_id(indicator.kind, indicator.value),
                "name": indicator.value, **common,
                "external_references": [{"source_name": "cve",
                                         "external_id": indicator.value}]}
    if indicator.kind not in _PATHS and indicator.kind is not Kind.CIDR:
        return None
    found: dict[str, Any] = {
        "type": "indicator", "id": shared_id(indicator.kind, indicator.value),
        **common, "name": indicator.value, "indicator_types": ["malicious-activity"],
        "pattern": pattern_for(indicator.kind, indicator.value), "pattern_type": "stix",
        "pattern_version": "2.1", "valid_from": timestamp(indicator.first_seen),
    }
    if indicator.valid_until is not None and indicator.valid_until > indicator.first_seen:
        found["valid_until"] = timestamp(indicator.valid_until)  # STIX wants it after
    return found


def _marking(label: str) -> dict[str, Any]:
    return {"type": "marking-definition", "spec_version": "2.1", "id": TLP_MARKINGS[label],
            "created": "2022-10-01T00:00:00.000Z", "name": f"TLP:{label.upper()}",
            "extensions": {TLP_EXTENSION: {"extension_type": "property-extension",
                                           "tlp_2_0": label}}}


class _Bundle:
    """Objects collected for one export, each shared object marked with the most
    restrictive TLP of the exported objects that refer to it."""

    def __init__(self, identity: str, now: datetime) -> None:
        self.identity = identity_object(identity, now)
        self.now = timestamp(now)
        self.objects: dict[str, dict[str, Any]] = {}
        self.labels: set[str] = set()

    def put(self, obj: dict[str, Any], label: str) -> None:
        known = self.objects.setdefault(obj["id"], obj)
        if tlp_rank(label) > tlp_rank(_label_of(known)):
            known["object_marking_refs"] = [TLP_MARKINGS[label]]
        self.labels.add(label)

    def shared(self, kind: str, key: str, label: str, **properties: Any) -> str:
        """A malware or attack-pattern object (stamped with the export time)."""
        obj = {"type": kind, "spec_version": "2.1", "id": stix_id(kind, key.lower()),
               "created": self.now, "modified": self.now,
               "created_by_ref": self.identity["id"],
               "object_marking_refs": [TLP_MARKINGS[label]], **properties}
        self.put(obj, label)
        return str(obj["id"])

    def relate(self, source: str, verb: str, target: str, of: dict[str, Any], label: str) -> None:
        self.put({"type": "relationship", "spec_version": "2.1",
                  "id": stix_id("relationship", f"{source}:{verb}:{target}"),
                  "created": of["created"], "modified": of["modified"],
                  "created_by_ref": self.identity["id"], "relationship_type": verb,
                  "source_ref": source, "target_ref": target,
                  "object_marking_refs": [TLP_MARKINGS[label]]}, label)


def export_bundle(indicators: Iterable[StoredIndicator], sightings: Iterable[StoredSighting],
                  *, max_tlp: str, identity: str = "Watchkeeper",
                  now: datetime | None = None) -> dict[str, Any]:
    """A STIX 2.1 bundle of the indicators whose TLP may be shared at ``max_tlp``, with
    their threat (``malware`` + relationship), ATT&CK techniques (``attack-pattern`` +
    relationship) and sightings. ``now`` stamps the objects that have no time of their
    own (the identity, malware, attack patterns)."""
    limit = tlp_rank(max_tlp)
    bundle = _Bundle(identity, now or datetime.now(UTC))
    exported: dict[int, dict[str, Any]] = {}
    for indicator in indicators:
        label = tlp_label(indicator.tlp)
        obj = object_for(indicator, identity=identity)
        if tlp_rank(label) > limit or obj is None:
            continue
        bundle.put(obj, label)
        exported[indicator.id] = obj
        is_cve = indicator.kind is Kind.CVE
        if indicator.threat:
            malware = bundle.shared("malware", indicator.threat, label,
                                    name=indicator.threat, is_family=True)
            if is_cve:
                bundle.relate(malware, "exploits", obj["id"], obj, label)
            else:
                bundle.relate(obj["id"], "indicates", malware, obj, label)
        for technique in indicator.attack:
            pattern = bundle.shared("attack-pattern", technique, label, name=technique,
                                    external_references=[_attack_reference(technique)])
            if is_cve:
                bundle.relate(pattern, "targets", obj["id"], obj, label)
            else:
                bundle.relate(obj["id"], "indicates", pattern, obj, label)
    for sighting in sightings:
        target = exported.get(sighting.indicator_id)
        if target is not None:
            bundle.put(_sighting(sighting, target, bundle.identity["id"]), _label_of(target))
    markings = [_marking(label) for label in sorted(bundle.labels, key=tlp_rank)]
    objects = [bundle.identity, *markings, *bundle.objects.values()]
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}


def _label_of(obj: dict[str, Any]) -> str:
    ref = obj["object_marking_refs"][0]
    return next(name for name, marking in TLP_MARKINGS.items() if marking == ref)


def _attack_reference(technique: str) -> dict[str, str]:
    path = technique.upper().replace(".", "/")
    return {"source_name": "mitre-attack", "external_id": technique.upper(),
            "url": f"https://attack.mitre.org/techniques/{path}/"}


def _sighting(sighting: StoredSighting, of: dict[str, Any], identity: str) -> dict[str, Any]:
    stamp = timestamp(sighting.at)
    obj: dict[str, Any] = {
        "type": "sighting", "spec_version": "2.1", "id": stix_id("sighting", str(sighting.id)),
        "created": stamp, "modified": stamp, "created_by_ref": identity,
        "sighting_of_ref": of["id"], "count": sighting.count, "first_seen": stamp,
        "last_seen": stamp, "where_sighted_refs": [identity],
        "object_marking_refs": list(of["object_marking_refs"]),
    }
    if sighting.kind == "false-positive":
        obj["x_watchkeeper_false_positive"] = True
        # who reported it, and their note, stay inside: partners learn that it was
        obj["description"] = "Reported as a false positive"
    return obj

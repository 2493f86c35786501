"""MISP events (a feed's ``<uuid>.json`` files, or the REST API's answers) as indicators.

A MISP feed is a ``manifest.json`` (event uuid → summary with a ``timestamp``) and one
file per event; an incremental pull reads the manifest and fetches only the events
changed since the last cursor (the highest event timestamp seen).

Only attributes flagged for detection (``to_ids``) become indicators; one no longer
flagged, or deleted (itself or with its object), is withdrawn. Composite types give
both halves (``domain|ip``, ``filename|sha256``), or their address (``ip-dst|port``).
The TLP is the attribute's ``tlp:`` tag, else the event's, else amber. Galaxy clusters
(and ``misp-galaxy:`` tags) of actors, malware and tools name the threat; ATT&CK
pattern clusters give the technique id; other tags become tags.

Confidence: a ``confidence-level:`` taxonomy tag (attribute, then event) when there is
one, since it is what the producer says about its certainty; else the event's threat
level (1 high → 75, 2 medium → 50, 3 low → 30, 4 undefined → 50).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from watchkeeper.errors import InputError
from watchkeeper.intel.feeds.common import add, load_json, parse_time, unique, withdraw
from watchkeeper.intel.model import FeedProblem, FeedResult, Kind, tlp_label

THREAT_LEVEL_CONFIDENCE = {1: 75, 2: 50, 3: 30, 4: 50}
CONFIDENCE_LEVELS = {"completely-confident": 100, "usually-confident": 75,
                     "fairly-confident": 50, "rarely-confident": 25, "unconfident": 0,
                     "confidence-cannot-be-evaluated": 50}
"""The ``confidence-level`` taxonomy's predicates and the numbers it gives them."""
THREAT_GALAXIES = frozenset({
    "threat-actor", "malpedia", "ransomware", "tool", "botnet", "rat", "backdoor", "banker",
    "stealer", "exploit-kit", "android", "microsoft-activity-group", "mitre-intrusion-set",
    "mitre-malware", "mitre-tool", "mitre-enterprise-attack-intrusion-set",
    "mitre-enterprise-attack-malware", "mitre-enterprise-attack-tool",
})
TYPES: dict[str, tuple[Kind | None, ...]] = {
    "ip-src": (None,), "ip-dst": (None,), "ip-src|port": (None,), "ip-dst|port": (None,),
    "domain": (Kind.DOMAIN,), "hostname": (Kind.DOMAIN,), "domain|ip": (Kind.DOMAIN, None),
    "hostname|port": (Kind.DOMAIN,), "url": (Kind.URL,),
    "md5": (Kind.MD5,), "sha1": (Kind.SHA1,), "sha256": (Kind.SHA256,),
    "filename|md5": (Kind.FILENAME, Kind.MD5), "filename|sha1": (Kind.FILENAME, Kind.SHA1),
    "filename|sha256": (Kind.FILENAME, Kind.SHA256), "filename": (Kind.FILENAME,),
    "email": (Kind.EMAIL,), "email-src": (Kind.EMAIL,), "email-dst": (Kind.EMAIL,),
    "user-agent": (Kind.USER_AGENT,), "ja3-fingerprint-md5": (Kind.JA3,),
    "vulnerability": (Kind.CVE,),
}
"""MISP attribute types → the kind of each ``|``-separated part (None: an address,
IPv4, IPv6 or a network by its form). A part with no kind listed (a port) is dropped."""
_GALAXY_TAG = re.compile(r'^misp-galaxy:([^=]+)="?(.*?)"?$')
_TECHNIQUE = re.compile(r"\b(T\d{4}(?:\.\d{3})?)\b")


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    uuid: str
    timestamp: int
    """When the event last changed, epoch seconds."""
    info: str


def read_manifest(data: bytes, source: str = "manifest.json") -> list[ManifestEntry]:
    """The events a feed's manifest lists; :class:`InputError` when it is not one (an
    entry without a readable timestamp included: the manifest is written by MISP, so one
    broken entry means the file cannot be trusted)."""
    doc = load_json(data, source)
    if not isinstance(doc, dict):
        raise InputError("not a MISP manifest: expected an object of events", location=source)
    entries = []
    for uuid, summary in doc.items():
        stamp = summary.get("timestamp") if isinstance(summary, dict) else None
        if not (isinstance(stamp, int) or (isinstance(stamp, str) and stamp.isdigit())):
            raise InputError(f"event {uuid} has no timestamp", location=source)
        entries.append(ManifestEntry(uuid, int(stamp), str(summary.get("info", ""))))
    return entries


def changed_events(manifest: list[ManifestEntry], since: int | None) -> list[str]:
    """The uuids of the events changed after ``since`` (all when None), oldest first."""
    return [entry.uuid for entry in sorted(manifest, key=lambda entry: entry.timestamp)
            if since is None or entry.timestamp > since]


EVENT_UUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")


def read_misp_feed(read: Callable[[str], bytes], source: str, since: int | None, *,
                   where: str, unreadable_fails: bool) -> FeedResult:
    """The events of a feed changed after ``since``, each read by name with ``read``
    (``manifest.json``, ``<uuid>.json``: from a folder or a URL, the caller's I/O); the
    cursor is the manifest's newest timestamp. A name that is not an event uuid and an
    event that does not parse are problems; one that cannot be read is a problem too,
    unless ``unreadable_fails`` (a scheduled pull: its cursor must stay for next time)."""
    manifest = read_manifest(read("manifest.json"), f"{where}: manifest.json")
    result = FeedResult([], [])
    for uuid in changed_events(manifest, since):
        place = f"{where}: {uuid}.json"
        if not EVENT_UUID.match(uuid):
            result.problems.append(FeedProblem(place, "the manifest lists a name that is "
                                                      "not an event uuid"))
            continue
        try:
            data = read(f"{uuid}.json")
        except InputError as exc:
            if unreadable_fails:
                raise
            result.problems.append(FeedProblem(place, exc.message))
            continue
        try:
            result.absorb(parse_misp_event(data, source))
        except InputError as exc:
            result.problems.append(FeedProblem(place, exc.message))
    newest = max((entry.timestamp for entry in manifest), default=since)
    result.cursor = str(newest) if newest is not None else None
    return result


def parse_misp_event(data: bytes, source: str) -> FeedResult:
    """The indicators of one event file (``{"Event": {...}}``)."""
    doc = load_json(data, source)
    if not isinstance(doc, dict):
        raise InputError("not a MISP event: expected an object", location=source)
    return parse_misp_event_dict(doc, source)


def parse_misp_event_dict(doc: dict[str, Any], source: str) -> FeedResult:
    """The indicators of one event as parsed JSON, with or without its ``Event`` wrapper."""
    event = doc.get("Event", doc)
    if not isinstance(event, dict) or not isinstance(event.get("Attribute", []), list):
        raise InputError("not a MISP event: no Event with attributes", location=source)
    result = FeedResult([], [])
    context = _Labels.of(event)
    confidence = context.confidence
    if confidence is None:
        confidence = THREAT_LEVEL_CONFIDENCE.get(_int(event.get("threat_level_id")), 50)
    info = str(event.get("info") or "")
    attributes = [(attribute, "", False) for attribute in event.get("Attribute") or []]
    for obj in event.get("Object") or []:
        if isinstance(obj, dict):
            name, gone = str(obj.get("name") or "object"), _flag(obj.get("deleted"))
            attributes += [(attribute, name, gone) for attribute in obj.get("Attribute") or []]
    for attribute, object_name, object_deleted in attributes:
        where = f"{source}: attribute {_uuid(attribute)}"
        if not isinstance(attribute, dict):
            result.problems.append(FeedProblem(where, "not an attribute object"))
            continue
        if object_deleted:  # a deleted object takes its attributes with it
            attribute = {**attribute, "deleted": True}
        _attribute(attribute, object_name, where, context, confidence, info, source, result)
    stamp = _int(event.get("timestamp"))
    result.cursor = str(stamp) if stamp else None
    return result


@dataclass(slots=True)
class _Labels:
    """What tags and galaxies say about an event or an attribute."""

    tags: list[str]
    tlp: str | None
    confidence: int | None
    threats: list[str]
    attack: list[str]

    @classmethod
    def of(cls, holder: dict[str, Any]) -> _Labels:
        labels = cls([], None, None, [], [])
        for tag in holder.get("Tag") or []:
            name = tag.get("name") if isinstance(tag, dict) else None
            if isinstance(name, str):
                labels._tag(name.strip())
        for galaxy in holder.get("Galaxy") or []:
            if isinstance(galaxy, dict):
                for cluster in galaxy.get("GalaxyCluster") or []:
                    if isinstance(cluster, dict) and isinstance(cluster.get("value"), str):
                        labels._cluster(str(galaxy.get("type", "")), cluster["value"])
        return labels

    def _tag(self, name: str) -> None:
        lowered = name.lower()
        if lowered.startswith("tlp:"):
            try:
                self.tlp = tlp_label(lowered)
            except InputError:
                self.tags.append(name)
        elif lowered.startswith("confidence-level:"):
            level = CONFIDENCE_LEVELS.get(lowered.partition(":")[2].strip('"'))
            if level is not None:
                self.confidence = level
        elif found := _GALAXY_TAG.match(name):
            self._cluster(found.group(1), found.group(2))
        else:
            self.tags.append(name)

    def _cluster(self, galaxy: str, value: str) -> None:
        if "attack-pattern" in galaxy:
            self.attack += _TECHNIQUE.findall(value)
        elif galaxy in THREAT_GALAXIES:
            self.threats.append(value)
        else:
            self.tags.append(f'misp-galaxy:{galaxy}="{value}"')


def _attribute(attribute: dict[str, Any], object_name: str, where: str, event: _Labels,
               confidence: int, info: str, source: str, result: FeedResult) -> None:
    kinds = TYPES.get(str(attribute.get("type")))
    value = str(attribute.get("value") or "")
    flagged = _flag(attribute.get("to_ids")) and not _flag(attribute.get("deleted"))
    if kinds is None:
        if flagged:
            result.problems.append(FeedProblem(
                where, f"attribute type {attribute.get('type')!r} is not an indicator kind"))
        return
    parts = value.split("|") if len(kinds) > 1 or "|" in str(attribute["type"]) else [value]
    pairs = [(kind or _address_kind(part), part) for kind, part in zip(kinds, parts,
                                                                      strict=False)]
    if not flagged:
        for kind, part in pairs:
            withdraw(result, kind, part)
        return
    own = _Labels.of(attribute)
    try:
        stamp = parse_time(attribute.get("timestamp"))
        first_seen = parse_time(attribute.get("first_seen")) or stamp
        last_seen = parse_time(attribute.get("last_seen")) or stamp
    except InputError as exc:
        result.problems.append(FeedProblem(where, exc.message))
        return
    threats = own.threats + event.threats
    comment = str(attribute.get("comment") or "")
    details: dict[str, object] = {
        "confidence": own.confidence if own.confidence is not None else confidence,
        "tlp": own.tlp or event.tlp or "amber",
        "tags": unique([*own.tags, *event.tags]),
        "threat": threats[0] if threats else None,
        "attack": unique(own.attack + event.attack),
        "description": "; ".join(p for p in (comment or info, object_name and
                                             f"{object_name} object") if p),
        "first_seen": first_seen, "last_seen": last_seen,
        "external_id": attribute.get("uuid"),
    }
    for kind, part in pairs:
        add(result, where, kind, part, source, **details)


def _address_kind(text: str) -> Kind:
    """An address's kind by its form; the normalizer then says whether it is one."""
    if "/" in text:
        return Kind.CIDR
    return Kind.IPV6 if ":" in text else Kind.IPV4


def _flag(value: object) -> bool:
    """MISP writes flags as booleans, or ``"1"``/``"0"`` in older exports."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true")
    return bool(value)


def _int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else 0


def _uuid(attribute: object) -> str:
    uuid = attribute.get("uuid") if isinstance(attribute, dict) else None
    return uuid if isinstance(uuid, str) else "?"



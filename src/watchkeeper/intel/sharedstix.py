"""The STIX objects of the shared collections, paged the way TAXII asks for them.

Each shareable indicator gives a group of objects: the producer identity, its TLP
marking definition, the indicator (or vulnerability), and its threat and ATT&CK
techniques with their relationships, all with deterministic ids. Objects with no time of
their own (identity, malware, attack patterns) carry a fixed stamp, so that pulling twice
gives the same version. Every object of a group is added to the collection when its
indicator last changed (``date_added``). The ``sightings`` collection holds one sighting
object per sighting of a shareable indicator, added when it was reported.

A page cursor is the group's position in ``(date_added, id)`` order and the index of the
next object inside it, so that a page ends after exactly ``limit`` objects.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchkeeper.errors import UsageError
from watchkeeper.intel.export import NAMESPACE, export_bundle
from watchkeeper.intel.sharing import (
    Position,
    all_shareable,
    indicator_page,
    shared_labels,
    sighting_page,
)
from watchkeeper.intel.store_model import IndicatorRow

if TYPE_CHECKING:
    from watchkeeper.intel.service import IntelService

STIX_MEDIA = "application/stix+json;version=2.1"
STAMP = datetime(2020, 1, 1, tzinfo=UTC)
"""The ``created``/``modified`` of shared objects that have no time of their own."""
SCAN = 200
"""Indicators or sightings read per query while filling a page."""

Group = tuple[Position, list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Collection:
    key: str
    title: str
    description: str

    @property
    def id(self) -> str:
        return str(uuid.uuid5(NAMESPACE, f"taxii-collection:{self.key}"))

    def resource(self) -> dict[str, Any]:
        """The TAXII collection resource: readable, never writable."""
        return {"id": self.id, "title": self.title, "description": self.description,
                "can_read": True, "can_write": False, "media_types": [STIX_MEDIA]}


COLLECTIONS = {c.id: c for c in (
    Collection("indicators", "indicators",
               "Active indicators within the TLP limit, with their threats, ATT&CK "
               "techniques, producer identity and TLP marking definitions."),
    Collection("sightings", "sightings", "Sightings of the shared indicators."),
)}


@dataclass(frozen=True, slots=True)
class Filters:
    """``match[...]`` filters; None means any."""

    types: frozenset[str] | None = None
    ids: frozenset[str] | None = None
    spec_versions: frozenset[str] | None = None
    versions: frozenset[str] | None = None
    """Exact ``modified`` stamps; ``last``, ``first`` and ``all`` are the one version kept."""

    def keeps(self, obj: dict[str, Any]) -> bool:
        return ((self.types is None or obj["type"] in self.types)
                and (self.ids is None or obj["id"] in self.ids)
                and (self.spec_versions is None
                     or obj.get("spec_version", "2.1") in self.spec_versions)
                and (self.versions is None or version_of(obj) in self.versions))


@dataclass(frozen=True, slots=True)
class Cursor:
    position: Position
    skip: int
    """Objects of the group at ``position`` already handed out."""

    def encode(self) -> str:
        return f"{self.position.encode()}-{self.skip}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        head, _, skip = text.rpartition("-")
        if not skip.isdigit() or len(skip) > 4:
            raise UsageError(f"not a page cursor: {text[:60]!r}")
        return cls(Position.decode(head), int(skip))


@dataclass(slots=True)
class Page:
    objects: list[dict[str, Any]] = field(default_factory=list)
    added: list[datetime] = field(default_factory=list)
    """When each object was added to the collection."""
    more: bool = False
    next: Cursor | None = None


def version_of(obj: dict[str, Any]) -> str:
    return str(obj.get("modified") or obj["created"])


def date_added(moment: datetime) -> str:
    """A TAXII timestamp with microseconds: an ``added_after`` built from it excludes
    exactly what was already seen."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def indicator_groups(session: Session, intel: IntelService, max_tlp: str,
                     after: Position | None, added_after: datetime | None) -> Iterator[Group]:
    while True:
        batch = indicator_page(session, intel, max_tlp=max_tlp, after=after,
                               added_after=added_after, limit=SCAN)
        for indicator in batch:
            bundle = export_bundle([indicator], [], max_tlp=max_tlp, now=STAMP)
            yield Position(indicator.updated_at, indicator.id), list(bundle["objects"])
        if len(batch) < SCAN:
            return
        after = Position(batch[-1].updated_at, batch[-1].id)


def sighting_groups(session: Session, intel: IntelService, max_tlp: str,
                    after: Position | None, added_after: datetime | None) -> Iterator[Group]:
    while True:
        batch = sighting_page(session, max_tlp=max_tlp, after=after, added_after=added_after,
                              limit=SCAN)
        indicators = intel.store.stored(session, sorted({s.indicator_id for s in batch}))
        for sighting in batch:
            bundle = export_bundle([indicators[sighting.indicator_id]], [sighting],
                                   max_tlp=max_tlp, now=STAMP)
            yield Position(sighting.at, sighting.id), [
                obj for obj in bundle["objects"] if obj["type"] == "sighting"]
        if len(batch) < SCAN:
            return
        after = Position(batch[-1].at, batch[-1].id)


GROUPS: dict[str, Callable[..., Iterator[Group]]] = {
    "indicators": indicator_groups, "sightings": sighting_groups}


def page(intel: IntelService, collection: Collection, *, max_tlp: str, filters: Filters,
         limit: int, added_after: datetime | None = None, cursor: Cursor | None = None
         ) -> Page:
    """Up to ``limit`` objects of ``collection`` from ``cursor`` on; ``more`` when another
    object matches after them. An object met twice in one page is given once."""
    found = Page()
    seen: set[str] = set()
    after = None
    if cursor is not None:  # resume inside the cursor's group: start just before it
        after = Position(cursor.position.at, cursor.position.id - 1)
    with intel.db.read() as session:
        groups = GROUPS[collection.key](session, intel, max_tlp, after, added_after)
        for position, objects in groups:
            start = cursor.skip if cursor is not None and position == cursor.position else 0
            for index in range(start, len(objects)):
                obj = objects[index]
                if obj["id"] in seen or not filters.keeps(obj):
                    continue
                if len(found.objects) >= limit:
                    found.more, found.next = True, Cursor(position, index)
                    return found
                seen.add(obj["id"])
                found.objects.append(obj)
                found.added.append(position.at)
    return found


def find(intel: IntelService, collection: Collection, object_id: str, *, max_tlp: str,
         filters: Filters) -> Page:
    """The shared object with this id (its one version), or an empty page. An indicator
    (or vulnerability) is found by its id through the store's index; the objects that
    accompany indicators (identity, markings, threats, relationships) by a scan."""
    only = Filters(filters.types, frozenset({object_id}), filters.spec_versions,
                   filters.versions)
    if collection.key == "indicators" and object_id.startswith(DIRECT):
        return _indexed(intel, object_id, max_tlp, only)
    return page(intel, collection, max_tlp=max_tlp, filters=only, limit=1)


DIRECT = ("indicator--", "vulnerability--")
"""Object types the store indexes by STIX id."""


def _indexed(intel: IntelService, object_id: str, max_tlp: str, only: Filters) -> Page:
    found = Page()
    with intel.db.read() as session:
        rows = session.scalars(select(IndicatorRow).where(
            IndicatorRow.stix_id == object_id, IndicatorRow.active.is_(True),
            IndicatorRow.tlp.in_(shared_labels(max_tlp)))).all()
        shared = intel.store.stored(session, [row.id for row in rows])
    for indicator in shared.values():
        bundle = export_bundle([indicator], [], max_tlp=max_tlp, now=STAMP)
        for obj in bundle["objects"]:
            if obj["id"] == object_id and only.keeps(obj):
                found.objects.append(obj)
                found.added.append(indicator.updated_at)
                return found
    return found


def shared_bundle(intel: IntelService, *, max_tlp: str, since: datetime | None = None
                  ) -> dict[str, Any]:
    """A STIX bundle of every shareable indicator changed after ``since``, with the
    sightings of each."""
    indicators, sightings = [], []
    for batch, seen in all_shareable(intel, max_tlp=max_tlp, added_after=since):
        indicators.extend(batch)
        sightings.extend(seen)
    return export_bundle(indicators, sightings, max_tlp=max_tlp)

"""What may be shared with partners, and in which order.

An indicator is shareable while it is active and its TLP is no more restrictive than the
limit: the server's ``intel.share_max_tlp`` (``amber`` unless configured), which a request
may narrow and never widen. Pages are ordered by ``(updated_at, id)``, so that a position
in that order is a stable cursor: a row changed after a page was read moves to the end,
where the next pages find it again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from watchkeeper.errors import PermissionDenied, UsageError
from watchkeeper.intel.model import TLPS, StoredIndicator, StoredSighting, tlp_label, tlp_rank
from watchkeeper.intel.store_model import IndicatorRow, SightingRow

if TYPE_CHECKING:
    from watchkeeper.intel.service import IntelService

BATCH = 500
"""Rows read per query while walking everything shareable (an export)."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def share_tlp(server_max: str, asked: str | None = None) -> str:
    """The TLP limit of one request: ``asked`` when given and no wider than the server's
    limit; :class:`PermissionDenied` when it is wider."""
    limit = tlp_label(server_max)
    if asked is None or not asked.strip():
        return limit
    wanted = tlp_label(asked)
    if tlp_rank(wanted) > tlp_rank(limit):
        raise PermissionDenied(f"TLP {wanted} is not shared here: the limit is {limit}")
    return wanted


def shared_labels(max_tlp: str) -> list[str]:
    """Every TLP label that may be shared at ``max_tlp``."""
    return list(TLPS[: tlp_rank(max_tlp) + 1])


@dataclass(frozen=True, slots=True)
class Position:
    """A place in the ``(at, id)`` order of indicators (or of sightings)."""

    at: datetime
    id: int

    def encode(self) -> str:
        micros = (self.at.astimezone(UTC) - EPOCH) // timedelta(microseconds=1)
        return f"{micros}-{self.id}"

    @classmethod
    def decode(cls, text: str) -> Position:
        """The position ``encode`` wrote; :class:`UsageError` for anything else."""
        micros, _, ident = text.partition("-")
        if not (micros.isdigit() and ident.isdigit()) or len(text) > 40:
            raise UsageError(f"not a position: {text[:60]!r}")
        return cls(EPOCH + timedelta(microseconds=int(micros)), int(ident))


def indicator_page(
    session: Session, intel: IntelService, *, max_tlp: str, after: Position | None = None,
    added_after: datetime | None = None, limit: int = 100,
) -> list[StoredIndicator]:
    """Up to ``limit`` shareable indicators after ``after`` (and changed after
    ``added_after``), in ``(updated_at, id)`` order."""
    query = select(IndicatorRow).where(IndicatorRow.active.is_(True),
                                       IndicatorRow.tlp.in_(shared_labels(max_tlp)))
    if added_after is not None:
        query = query.where(IndicatorRow.updated_at > added_after)
    if after is not None:
        query = query.where(or_(IndicatorRow.updated_at > after.at,
                                and_(IndicatorRow.updated_at == after.at,
                                     IndicatorRow.id > after.id)))
    query = query.order_by(IndicatorRow.updated_at, IndicatorRow.id).limit(max(1, limit))
    return list(intel.store.iter_rows(session, query))


def sighting_page(
    session: Session, *, max_tlp: str, after: Position | None = None,
    added_after: datetime | None = None, limit: int = 100,
) -> list[StoredSighting]:
    """Up to ``limit`` sightings of shareable indicators after ``after``, in ``(at, id)``
    order."""
    query = select(SightingRow).join(IndicatorRow, IndicatorRow.id == SightingRow.indicator_id) \
        .where(IndicatorRow.active.is_(True), IndicatorRow.tlp.in_(shared_labels(max_tlp)))
    if added_after is not None:
        query = query.where(SightingRow.at > added_after)
    if after is not None:
        query = query.where(or_(SightingRow.at > after.at,
                                and_(SightingRow.at == after.at, SightingRow.id > after.id)))
    query = query.order_by(SightingRow.at, SightingRow.id).limit(max(1, limit))
    return [_sighting(row) for row in session.scalars(query)]


def sightings_of(session: Session, ids: Sequence[int]) -> list[StoredSighting]:
    """Every sighting of these indicators, oldest first."""
    found: list[StoredSighting] = []
    for start in range(0, len(ids), BATCH):
        part = list(ids[start:start + BATCH])
        found.extend(_sighting(row) for row in session.scalars(
            select(SightingRow).where(SightingRow.indicator_id.in_(part))
            .order_by(SightingRow.at, SightingRow.id)))
    return found


def all_shareable(
    intel: IntelService, *, max_tlp: str, added_after: datetime | None = None,
) -> Iterator[tuple[list[StoredIndicator], list[StoredSighting]]]:
    """Every shareable indicator changed after ``added_after``, batch by batch, each batch
    with its sightings."""
    after: Position | None = None
    while True:
        with intel.db.read() as session:
            page = indicator_page(session, intel, max_tlp=max_tlp, after=after,
                                  added_after=added_after, limit=BATCH)
            if not page:
                return
            sightings = sightings_of(session, [i.id for i in page])
        yield page, sightings
        if len(page) < BATCH:
            return
        after = Position(page[-1].updated_at, page[-1].id)


def _sighting(row: SightingRow) -> StoredSighting:
    return StoredSighting(id=row.id, indicator_id=row.indicator_id, kind=row.kind, at=row.at,
                          by=row.by, count=row.count, event_id=row.event_id, note=row.note)

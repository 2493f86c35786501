"""The indicator store: merging what feeds give into one row per value, and keeping each
row's score and matching state.

An indicator's confidence is the highest its live sources give, its TLP the most
restrictive; its score is that confidence decayed by age (MISP's polynomial model),
raised by sightings and cut by false positives. It matches while it is valid, above the
decay threshold, backed by a source that has not withdrawn it, and on no warning list or
allowlist. ``expires_at`` says when that ends, so that one update retires decayed rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from watchkeeper.intel.decay import DEFAULT_POLICIES, DecayPolicy, base_score, expires_at, score
from watchkeeper.intel.model import (
    TLPS,
    FeedResult,
    IndicatorIn,
    Kind,
    StoredIndicator,
    tlp_rank,
)
from watchkeeper.intel.store_model import IndicatorRow, IndicatorSourceRow
from watchkeeper.intel.warninglists import WarningLists

CHUNK = 500
"""Keys per lookup: well under every database's limit of bound values."""
INDICATORS = IndicatorRow.metadata.tables[IndicatorRow.__tablename__]
SOURCES = IndicatorSourceRow.metadata.tables[IndicatorSourceRow.__tablename__]


def indicator_key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}|{value}".encode()).hexdigest()


@dataclass(slots=True)
class ImportReport:
    source: str
    received: int = 0
    new: int = 0
    updated: int = 0
    suppressed: int = 0
    """Stored but not matching: on a warning list or the allowlist."""
    withdrawn: int = 0
    problems: list[str] = field(default_factory=list)
    new_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "received": self.received, "new": self.new,
                "updated": self.updated, "suppressed": self.suppressed,
                "withdrawn": self.withdrawn, "problems": self.problems[:100],
                "problem_count": len(self.problems)}


@dataclass(slots=True)
class Suppression:
    """What keeps a value from matching: the warning lists and the allowlist."""

    lists: WarningLists
    allowed: set[tuple[str, str]] = field(default_factory=set)

    def reasons(self, kind: Kind, values: Sequence[str]) -> list[str | None]:
        hits = self.lists.filter(kind, values)
        out: list[str | None] = []
        for value, hit in zip(values, hits, strict=True):
            if (kind.value, value) in self.allowed:
                out.append("allowlist")
            else:
                out.append(f"warninglist:{hit.list_name}" if hit is not None else None)
        return out


class IndicatorStore:
    """Reads and writes indicators inside the caller's transaction."""

    def __init__(self, policies: dict[Kind, DecayPolicy] | None = None) -> None:
        self.policies = policies or DEFAULT_POLICIES

    # import --------------------------------------------------------------------------

    def ingest(self, session: Session, result: FeedResult, source: str,
               suppression: Suppression, now: datetime | None = None) -> ImportReport:
        now = now or datetime.now(UTC)
        report = ImportReport(source, received=len(result.indicators))
        report.problems = [f"{p.where}: {p.reason}" for p in result.problems]
        merged: dict[tuple[Kind, str], IndicatorIn] = {}
        for item in result.indicators:
            key = (item.kind, item.value)
            merged[key] = _merge(merged[key], item) if key in merged else item
        by_kind: dict[Kind, list[IndicatorIn]] = {}
        for item in merged.values():
            by_kind.setdefault(item.kind, []).append(item)
        touched: list[int] = []
        for kind, items in by_kind.items():
            reasons = suppression.reasons(kind, [i.value for i in items])
            report.suppressed += sum(1 for reason in reasons if reason)
            for start in range(0, len(items), CHUNK):
                part = items[start:start + CHUNK]
                touched.extend(self._upsert(session, part, reasons[start:start + CHUNK],
                                            source, now, report))
        touched.extend(self._withdraw(session, result.withdrawn, source, now, report))
        self.rescore(session, touched, now)
        return report

    def _upsert(self, session: Session, items: list[IndicatorIn], reasons: list[str | None],
                source: str, now: datetime, report: ImportReport) -> list[int]:
        """Insert the new values in bulk (their state computed here, one source each) and
        merge into the existing rows; returns the ids of the existing ones to rescore."""
        keys = [indicator_key(i.kind.value, i.value) for i in items]
        rows = {row.key: row for row in session.scalars(
            select(IndicatorRow).where(IndicatorRow.key.in_(keys)))}
        fresh = [(item, key, reason) for item, key, reason in zip(items, keys, reasons,
                                                                  strict=True)
                 if key not in rows]
        if fresh:
            made: dict[str, int] = dict(session.execute(
                insert(INDICATORS).returning(INDICATORS.c.key, INDICATORS.c.id),
                [self._new_row(item, key, reason, now) for item, key, reason in fresh]).all())
            session.execute(insert(SOURCES), [
                _source_row(made[key], source, item, now) for item, key, _ in fresh])
            report.new += len(made)
            report.new_ids.extend(made[key] for _, key, _ in fresh)
        existing: list[int] = []
        for item, key, reason in zip(items, keys, reasons, strict=True):
            row = rows.get(key)
            if row is None:
                continue
            row.tags = sorted(set(row.tags) | set(item.tags))
            row.attack = sorted(set(row.attack) | set(item.attack))
            row.threat = item.threat or row.threat
            row.description = item.description[:10_000] or row.description
            row.first_seen = min(row.first_seen, item.first_seen or row.first_seen)
            row.last_seen = max(row.last_seen, item.last_seen or now)
            if item.valid_until is not None or row.valid_until is not None:
                row.valid_until = item.valid_until
            row.suppressed_by = reason
            row.updated_at = now
            existing.append(row.id)
        report.updated += len(existing)
        if not existing:
            return []
        session.flush()
        links = {link.indicator_id: link for link in session.scalars(
            select(IndicatorSourceRow).where(IndicatorSourceRow.indicator_id.in_(existing),
                                             IndicatorSourceRow.source == source))}
        for item, key in zip(items, keys, strict=True):
            row = rows.get(key)
            if row is None:
                continue
            link = links.get(row.id)
            if link is None:
                session.add(IndicatorSourceRow(**_source_row(row.id, source, item, now)))
            else:
                link.confidence, link.tlp, link.withdrawn = item.confidence, item.tlp, False
                link.external_id = item.external_id or link.external_id
                link.updated_at = now
        return existing

    def _new_row(self, item: IndicatorIn, key: str, reason: str | None, now: datetime
                 ) -> dict[str, Any]:
        row = IndicatorRow(
            key=key, kind=item.kind.value, value=item.value, confidence=item.confidence,
            tlp=item.tlp, tags=sorted(set(item.tags)), attack=sorted(set(item.attack)),
            threat=item.threat, description=item.description[:10_000],
            first_seen=item.first_seen or now, last_seen=item.last_seen or now,
            valid_until=item.valid_until, sightings=0, false_positives=0,
            last_sighting=None, suppressed_by=reason, hunted_at=None,
            created_at=now, updated_at=now)
        self._state(row, True, now)
        return {column.key: getattr(row, column.key) for column in INDICATORS.columns
                if column.key != "id"}

    def _withdraw(self, session: Session, values: Iterable[tuple[Kind, str]], source: str,
                  now: datetime, report: ImportReport) -> list[int]:
        keys = [indicator_key(Kind(kind).value, value) for kind, value in values]
        ids: list[int] = []
        for start in range(0, len(keys), CHUNK):
            found = session.scalars(select(IndicatorRow.id).where(
                IndicatorRow.key.in_(keys[start:start + CHUNK]))).all()
            ids.extend(found)
        if ids:
            for start in range(0, len(ids), CHUNK):
                done = session.execute(update(IndicatorSourceRow).where(
                    IndicatorSourceRow.indicator_id.in_(ids[start:start + CHUNK]),
                    IndicatorSourceRow.source == source,
                    IndicatorSourceRow.withdrawn.is_(False),
                ).values(withdrawn=True, updated_at=now))
                report.withdrawn += done.rowcount  # type: ignore[attr-defined]
        return ids

    # scores --------------------------------------------------------------------------

    def rescore(self, session: Session, ids: Sequence[int], now: datetime) -> None:
        """Derive confidence and TLP from the live sources, then score and matching state."""
        unique = sorted(set(ids))
        for start in range(0, len(unique), CHUNK):
            part = unique[start:start + CHUNK]
            live: dict[int, list[tuple[int, str]]] = {}
            for ident, confidence, tlp in session.execute(
                select(IndicatorSourceRow.indicator_id, IndicatorSourceRow.confidence,
                       IndicatorSourceRow.tlp)
                .where(IndicatorSourceRow.indicator_id.in_(part),
                       IndicatorSourceRow.withdrawn.is_(False))):
                live.setdefault(ident, []).append((confidence, tlp))
            for row in session.scalars(select(IndicatorRow).where(IndicatorRow.id.in_(part))):
                sources = live.get(row.id, [])
                if sources:
                    row.confidence = max(c for c, _ in sources)
                    row.tlp = TLPS[max(tlp_rank(t) for _, t in sources)]
                self._state(row, bool(sources), now)

    def _state(self, row: IndicatorRow, backed: bool, now: datetime) -> None:
        policy = self.policies[Kind(row.kind)]
        base = base_score(row.confidence, row.sightings, row.false_positives)
        since = max(row.last_seen, row.last_sighting or row.last_seen)
        row.score = round(score(policy, base, since, now), 2)
        ends = expires_at(policy, base, since)
        if row.valid_until is not None:
            ends = row.valid_until if ends is None else min(ends, row.valid_until)
        row.expires_at = ends
        row.active = (backed and row.suppressed_by is None
                      and row.score >= policy.threshold and (ends is None or ends > now))

    def retire(self, session: Session, now: datetime) -> int:
        """Stop matching what has decayed or expired since the last pass."""
        done = session.execute(update(IndicatorRow).where(
            IndicatorRow.active.is_(True), IndicatorRow.expires_at <= now,
        ).values(active=False, updated_at=now))
        return int(done.rowcount)  # type: ignore[attr-defined]

    # reading -------------------------------------------------------------------------

    def active_frame(self, session: Session) -> pl.DataFrame:
        """``id``, ``kind``, ``value`` of every indicator that matches: the matcher's input."""
        rows = session.execute(select(IndicatorRow.id, IndicatorRow.kind, IndicatorRow.value)
                               .where(IndicatorRow.active.is_(True))).all()
        return pl.DataFrame(
            {"id": [r[0] for r in rows], "kind": [r[1] for r in rows],
             "value": [r[2] for r in rows]},
            schema={"id": pl.Int64, "kind": pl.String, "value": pl.String})

    def fingerprint(self, session: Session) -> tuple[Any, ...]:
        """Changes whenever the set of matching indicators may have changed."""
        active = select(func.count(IndicatorRow.id)).where(IndicatorRow.active.is_(True))
        return (session.scalar(active), session.scalar(select(func.max(IndicatorRow.updated_at))))

    def stored(self, session: Session, ids: Sequence[int]) -> dict[int, StoredIndicator]:
        out: dict[int, StoredIndicator] = {}
        for start in range(0, len(ids), CHUNK):
            part = list(ids[start:start + CHUNK])
            sources: dict[int, list[tuple[str, str | None]]] = {}
            for ident, name, external in session.execute(
                select(IndicatorSourceRow.indicator_id, IndicatorSourceRow.source,
                       IndicatorSourceRow.external_id)
                .where(IndicatorSourceRow.indicator_id.in_(part),
                       IndicatorSourceRow.withdrawn.is_(False))
                .order_by(IndicatorSourceRow.id)):
                sources.setdefault(ident, []).append((name, external))
            for row in session.scalars(select(IndicatorRow).where(IndicatorRow.id.in_(part))):
                out[row.id] = to_stored(row, sources.get(row.id, []))
        return out

    def iter_rows(self, session: Session, query: Any) -> Iterator[StoredIndicator]:
        rows = session.scalars(query).all()
        stored = self.stored(session, [r.id for r in rows])
        for row in rows:
            yield stored[row.id]


def to_stored(row: IndicatorRow, sources: Sequence[tuple[str, str | None]]) -> StoredIndicator:
    return StoredIndicator(
        id=row.id, kind=Kind(row.kind), value=row.value, confidence=row.confidence,
        tlp=row.tlp, sources=tuple(s for s, _ in sources), tags=tuple(row.tags),
        attack=tuple(row.attack), threat=row.threat, description=row.description,
        first_seen=row.first_seen, last_seen=row.last_seen, valid_until=row.valid_until,
        created_at=row.created_at, updated_at=row.updated_at, sightings=row.sightings,
        false_positives=row.false_positives, last_sighting=row.last_sighting,
        score=row.score, active=row.active,
        external_ids=tuple(e for _, e in sources if e))


def _source_row(ident: int, source: str, item: IndicatorIn, now: datetime) -> dict[str, Any]:
    return {"indicator_id": ident, "source": source, "external_id": item.external_id,
            "confidence": item.confidence, "tlp": item.tlp, "withdrawn": False,
            "added_at": now, "updated_at": now}


def _merge(old: IndicatorIn, new: IndicatorIn) -> IndicatorIn:
    """Two records of one value in one feed: the stronger claims of both."""
    def latest(a: datetime | None, b: datetime | None) -> datetime | None:
        return max(a, b) if a and b else a or b

    return IndicatorIn(
        old.kind, old.value, old.source, confidence=max(old.confidence, new.confidence),
        tlp=TLPS[max(tlp_rank(old.tlp), tlp_rank(new.tlp))],
        tags=tuple(sorted(set(old.tags) | set(new.tags))),
        attack=tuple(sorted(set(old.attack) | set(new.attack))),
        threat=new.threat or old.threat, description=new.description or old.description,
        first_seen=min(d for d in (old.first_seen, new.first_seen) if d)
        if old.first_seen or new.first_seen else None,
        last_seen=latest(old.last_seen, new.last_seen),
        valid_until=latest(old.valid_until, new.valid_until),
        external_id=new.external_id or old.external_id,
    )

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
import ipaddress
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from watchkeeper.intel.decay import DEFAULT_POLICIES, DecayPolicy, base_score, expires_at, score
from watchkeeper.intel.export import shared_id
from watchkeeper.intel.model import (
    TLPS,
    FeedResult,
    IndicatorIn,
    Kind,
    StoredIndicator,
    tlp_rank,
)
from watchkeeper.intel.store_model import AllowRow, IndicatorRow, IndicatorSourceRow
from watchkeeper.intel.warninglists import NATURAL_KINDS, WarningList, WarningLists

CHUNK = 500
"""Keys per lookup: well under every database's limit of bound values."""
MAX_DESCRIPTION = 10_000
LAST_SEEN_STEP = timedelta(hours=12)
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
    unchanged: int = 0
    """Values this source had already said the same of."""
    withdrawn: int = 0
    problems: list[str] = field(default_factory=list)
    new_ids: list[int] = field(default_factory=list)

    def add(self, part: ImportReport) -> None:
        """Count in a part of the same import."""
        self.new += part.new
        self.updated += part.updated
        self.unchanged += part.unchanged
        self.suppressed += part.suppressed
        self.withdrawn += part.withdrawn
        self.problems.extend(part.problems)
        self.new_ids.extend(part.new_ids)

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "received": self.received, "new": self.new,
                "updated": self.updated, "unchanged": self.unchanged,
                "suppressed": self.suppressed,
                "withdrawn": self.withdrawn, "problems": self.problems[:100],
                "problem_count": len(self.problems)}


@dataclass(slots=True)
class Suppression:
    """What keeps a value from matching: the warning lists and the allowlist. An allowed
    network covers the addresses and networks inside it, an allowed domain its
    subdomains (and the URLs and email addresses on them), as warning lists do."""

    lists: WarningLists
    allowed: set[tuple[str, str]] = field(default_factory=set)
    _allow: WarningLists = field(init=False)

    def __post_init__(self) -> None:
        self._allow = allow_lists(self.allowed)

    def reasons(self, kind: Kind, values: Sequence[str]) -> list[str | None]:
        hits = self.lists.filter(kind, values)
        allowed = self._allow.filter(kind, values) if self.allowed else [None] * len(values)
        out: list[str | None] = []
        for value, hit, allow in zip(values, hits, allowed, strict=True):
            if (kind.value, value) in self.allowed or allow is not None:
                out.append("allowlist")
            elif hit is not None:
                out.append(f"warninglist:{hit.list_name}")
            elif kind is Kind.CIDR and _too_broad(value):
                out.append("too-broad")
            else:
                out.append(None)
        return out


def allow_lists(allowed: set[tuple[str, str]]) -> WarningLists:
    """The allowlist compiled as warning lists: networks and domains cover what is under
    them, every other value is exact."""
    by_kind: dict[str, list[str]] = {}
    for kind, value in allowed:
        by_kind.setdefault(kind, []).append(value)
    lists = WarningLists.empty()
    for kind, values in sorted(by_kind.items()):
        if kind in ("ipv4", "ipv6", "cidr"):
            lists.add(WarningList(f"allowlist:{kind}", "cidr", tuple(values),
                                  NATURAL_KINDS["cidr"]))
        elif kind == "domain":
            lists.add(WarningList("allowlist:domain", "hostname", tuple(values),
                                  NATURAL_KINDS["hostname"]))
        else:
            lists.add(WarningList(f"allowlist:{kind}", "string", tuple(values),
                                  frozenset({Kind(kind)})))
    return lists


MIN_PREFIX = {4: 8, 6: 32}
"""Shorter networks are kept but never match: a feed's ``0.0.0.0/0`` would alert on
every event."""


def _too_broad(value: str) -> bool:
    network = ipaddress.ip_network(value, strict=False)
    return network.prefixlen < MIN_PREFIX[network.version]


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
        merged = merge_values(result.indicators)
        by_kind: dict[Kind, list[IndicatorIn]] = {}
        for item in merged.values():
            by_kind.setdefault(item.kind, []).append(item)
        changed: set[int] = set()
        for kind, items in by_kind.items():
            reasons = suppression.reasons(kind, [i.value for i in items])
            report.suppressed += sum(1 for reason in reasons if reason)
            for start in range(0, len(items), CHUNK):
                changed.update(self._upsert(session, items[start:start + CHUNK],
                                            reasons[start:start + CHUNK], source, now, report))
        changed.update(self._withdraw(session, result.withdrawn, source, now, report))
        self.rescore(session, sorted(changed), now)
        return report

    def _upsert(self, session: Session, items: list[IndicatorIn], reasons: list[str | None],
                source: str, now: datetime, report: ImportReport) -> list[int]:
        """Insert the new values in bulk (their standing computed here, one source each)
        and record this source's claims on the others; returns the ids whose claims or
        suppression changed, to derive again. An unchanged claim writes nothing."""
        keys = [indicator_key(i.kind.value, i.value) for i in items]
        rows = {key: (ident, suppressed) for ident, key, suppressed in session.execute(
            select(IndicatorRow.id, IndicatorRow.key, IndicatorRow.suppressed_by)
            .where(IndicatorRow.key.in_(keys)))}
        fresh = [(item, key, reason) for item, key, reason in zip(items, keys, reasons,
                                                                  strict=True)
                 if key not in rows]
        if fresh:
            made: dict[str, int] = dict(session.execute(
                insert(INDICATORS).returning(INDICATORS.c.key, INDICATORS.c.id),
                [self._new_row(item, key, reason, now) for item, key, reason in fresh]).all())
            session.execute(insert(SOURCES), [
                {"indicator_id": made[key], "source": source, "added_at": now,
                 "updated_at": now, **_claim(item, now)} for item, key, _ in fresh])
            report.new += len(made)
            report.new_ids.extend(made[key] for _, key, _ in fresh)
        held = [rows[key][0] for key in keys if key in rows]
        if not held:
            return []
        links = {link.indicator_id: link for link in session.scalars(
            select(IndicatorSourceRow).where(IndicatorSourceRow.indicator_id.in_(held),
                                             IndicatorSourceRow.source == source))}
        changed: list[int] = []
        for item, key, reason in zip(items, keys, reasons, strict=True):
            if key not in rows:
                continue
            ident, suppressed = rows[key]
            claim = _claim(item, now)
            link = links.get(ident)
            dirty = suppressed != reason
            if dirty:
                session.execute(update(IndicatorRow).where(IndicatorRow.id == ident)
                                .values(suppressed_by=reason))
            if link is None:
                session.add(IndicatorSourceRow(indicator_id=ident, source=source, added_at=now,
                                               updated_at=now, **claim))
                dirty = True
            elif _differs(link, claim):
                claim["external_id"] = claim["external_id"] or link.external_id
                for name, value in claim.items():
                    setattr(link, name, value)
                link.updated_at = now
                dirty = True
            if dirty:
                changed.append(ident)
        report.updated += len(changed)
        report.unchanged += len(held) - len(changed)
        return changed

    def _new_row(self, item: IndicatorIn, key: str, reason: str | None, now: datetime
                 ) -> dict[str, Any]:
        last_seen = item.last_seen or now
        value, ends, active = self._standing(item.kind, item.confidence, 0, 0, last_seen, None,
                                             item.valid_until, reason, True, now)
        return {
            "key": key, "kind": item.kind.value, "value": item.value,
            "stix_id": shared_id(item.kind, item.value), "confidence": item.confidence,
            "tlp": item.tlp, "tags": sorted(set(item.tags)),
            "attack": sorted(set(item.attack)), "threat": item.threat,
            "description": item.description[:MAX_DESCRIPTION],
            "first_seen": item.first_seen or now, "last_seen": last_seen,
            "valid_until": item.valid_until, "sightings": 0, "false_positives": 0,
            "last_sighting": None, "score": value, "expires_at": ends, "active": active,
            "suppressed_by": reason, "hunted_at": None, "created_at": now, "updated_at": now,
        }

    def _withdraw(self, session: Session, values: Iterable[tuple[Kind, str]], source: str,
                  now: datetime, report: ImportReport) -> list[int]:
        keys = [indicator_key(Kind(kind).value, value) for kind, value in values]
        ids: list[int] = []
        for start in range(0, len(keys), CHUNK):
            found = session.scalars(select(IndicatorRow.id).where(
                IndicatorRow.key.in_(keys[start:start + CHUNK]))).all()
            ids.extend(found)
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
        """Derive each indicator from its live sources' claims (confidence the highest,
        TLP the most restrictive, context merged, validity open when any source gives no
        end), then its score and matching state. ``updated_at`` moves only when what is
        shown or shared changes, so that partners are not sent what they have."""
        unique = sorted(set(ids))
        for start in range(0, len(unique), CHUNK):
            part = unique[start:start + CHUNK]
            live: dict[int, list[IndicatorSourceRow]] = {}
            for link in session.scalars(
                select(IndicatorSourceRow)
                .where(IndicatorSourceRow.indicator_id.in_(part),
                       IndicatorSourceRow.withdrawn.is_(False))
                .order_by(IndicatorSourceRow.id)):
                live.setdefault(link.indicator_id, []).append(link)
            for row in session.scalars(select(IndicatorRow).where(IndicatorRow.id.in_(part))):
                before, was_active = _shown(row), row.active
                sources = live.get(row.id, [])
                if sources:
                    _derive(row, sources)
                self._state(row, bool(sources), now)
                if _shown(row) != before:
                    row.updated_at = now
                if row.active and not was_active:
                    row.hunted_at = None  # back in the game: hunted again

    def _state(self, row: IndicatorRow, backed: bool, now: datetime) -> None:
        row.score, row.expires_at, row.active = self._standing(
            Kind(row.kind), row.confidence, row.sightings, row.false_positives, row.last_seen,
            row.last_sighting, row.valid_until, row.suppressed_by, backed, now)

    def _standing(self, kind: Kind, confidence: int, sightings: int, false_positives: int,
                  last_seen: datetime, last_sighting: datetime | None,
                  valid_until: datetime | None, suppressed_by: str | None, backed: bool,
                  now: datetime) -> tuple[float, datetime | None, bool]:
        """(score, when it stops matching, whether it matches now)."""
        policy = self.policies[kind]
        base = base_score(confidence, sightings, false_positives)
        since = max(last_seen, last_sighting or last_seen)
        value = round(score(policy, base, since, now), 2)
        ends = expires_at(policy, base, since)
        if valid_until is not None:
            ends = valid_until if ends is None else min(ends, valid_until)
        active = (backed and suppressed_by is None and value >= policy.threshold
                  and (ends is None or ends > now))
        return value, ends, active

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
        allowed = select(func.count(AllowRow.id), func.max(AllowRow.id))
        return (session.scalar(active), session.scalar(select(func.max(IndicatorRow.updated_at))),
                *session.execute(allowed).one())

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


def _claim(item: IndicatorIn, now: datetime) -> dict[str, Any]:
    """What one source says of a value, as its source row keeps it."""
    return {"external_id": item.external_id, "confidence": item.confidence, "tlp": item.tlp,
            "tags": sorted(set(item.tags)), "attack": sorted(set(item.attack)),
            "threat": item.threat, "description": item.description[:MAX_DESCRIPTION],
            "first_seen": item.first_seen, "last_seen": item.last_seen or now,
            "valid_until": item.valid_until, "withdrawn": False}


def _differs(link: IndicatorSourceRow, claim: dict[str, Any]) -> bool:
    """Whether the source says something new; a value listed again moves its last-seen
    time only once per :data:`LAST_SEEN_STEP`, so that a daily pull of an unchanged list
    writes little."""
    for name, value in claim.items():
        if name == "last_seen":
            old = link.last_seen
            if old is None or value - old >= LAST_SEEN_STEP or value < old:
                return True
        elif name == "external_id":
            if value is not None and value != link.external_id:
                return True
        elif getattr(link, name) != value:
            return True
    return False


def _derive(row: IndicatorRow, sources: Sequence[IndicatorSourceRow]) -> None:
    """The indicator as its live sources have it, row by row: nothing of a source that
    withdrew stays behind."""
    row.confidence = max(s.confidence for s in sources)
    row.tlp = TLPS[max(tlp_rank(s.tlp) for s in sources)]
    row.tags = sorted({t for s in sources for t in s.tags})
    row.attack = sorted({t for s in sources for t in s.attack})
    ranked = sorted(sources, key=lambda s: -s.confidence)  # stable: the oldest source first
    row.threat = next((s.threat for s in ranked if s.threat), None)
    row.description = next((s.description for s in ranked if s.description), "")
    row.first_seen = min(s.first_seen or s.added_at for s in sources)
    row.last_seen = max(s.last_seen or s.updated_at for s in sources)
    ends = [s.valid_until for s in sources]
    row.valid_until = None if any(e is None for e in ends) else max(e for e in ends if e)


def _shown(row: IndicatorRow) -> tuple[Any, ...]:
    return (row.confidence, row.tlp, row.tags, row.attack, row.threat, row.description,
            row.first_seen, row.valid_until, row.active, row.suppressed_by)


def merge_values(items: Iterable[IndicatorIn]) -> dict[tuple[Kind, str], IndicatorIn]:
    """One record per value, each the stronger claims of all the feed's records of it."""
    merged: dict[tuple[Kind, str], IndicatorIn] = {}
    for item in items:
        key = (item.kind, item.value)
        merged[key] = _merge(merged[key], item) if key in merged else item
    return merged


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
        # a record with no end keeps the value valid, as a source with none does
        valid_until=None if old.valid_until is None or new.valid_until is None
        else max(old.valid_until, new.valid_until),
        external_id=new.external_id or old.external_id,
    )

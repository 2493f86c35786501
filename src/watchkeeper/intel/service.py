"""The intel service: imports, the live matcher, alerts with indicator context, sightings,
the allowlist, search and statistics.

The matcher is rebuilt off the pipeline's thread whenever the store's fingerprint changes
(an import, a sighting that crossed the threshold, a retirement) and swapped in whole, so
that a batch always sees one consistent set of indicators.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import Integer, case, delete, func, or_, select, update
from sqlalchemy.orm import Session

from watchkeeper.alerts.writer import Grouping, match_rows
from watchkeeper.audit.service import AuditLog
from watchkeeper.config import IntelSettings
from watchkeeper.detection import ir
from watchkeeper.detection.logsource import LogSource
from watchkeeper.detection.rules import Rule
from watchkeeper.errors import InputError, NotFoundError, UsageError
from watchkeeper.intel.decay import policies_from
from watchkeeper.intel.matcher import DEFAULT_FIELDS, Matcher
from watchkeeper.intel.model import (
    FeedResult,
    IndicatorIn,
    Kind,
    StoredIndicator,
    StoredSighting,
    canonical_pair,
    guess_kind,
)
from watchkeeper.intel.store import (
    ImportReport,
    IndicatorStore,
    Suppression,
    indicator_key,
    merge_values,
)
from watchkeeper.intel.store_model import AllowRow, IndicatorRow, IndicatorSourceRow, SightingRow
from watchkeeper.intel.warninglists import WarningLists, builtin_warninglists, load_warninglists
from watchkeeper.search.values import like_literal
from watchkeeper.state.db import StateDB

IMPORT_PART = 5_000
"""Indicators per import transaction."""
RULE_PREFIX = "intel-"
"""Alerts of indicator matches have the rule id ``intel-<indicator id>``."""
GROUPING = Grouping(fields=("host.name",))
"""One alert per indicator and host within an hour, counting its events."""
SIGHTING_KINDS = ("seen", "false-positive")


@dataclass(frozen=True, slots=True)
class Snapshot:
    matcher: Matcher
    suppression: Suppression
    fingerprint: tuple[Any, ...]
    read_at: datetime | None = None
    """When its indicators were read: rows not changed since are in it."""
    live_since: datetime | None = None
    """When the pipeline started matching with it."""


class IntelService:
    def __init__(self, db: StateDB, audit: AuditLog, settings: IntelSettings) -> None:
        self.db = db
        self.audit = audit
        self.settings = settings
        self.store = IndicatorStore(policies_from(settings.decay))
        self.fields = matcher_fields(settings.fields)
        lists = builtin_warninglists() if settings.builtin_warninglists else WarningLists.empty()
        loaded, self.list_problems = load_warninglists(settings.warninglists)
        for warning_list in loaded.lists():
            try:
                lists.add(warning_list)
            except InputError as error:
                self.list_problems.append((warning_list.name, str(error)))
        self.lists = lists
        self._snapshot = Snapshot(Matcher.empty(), Suppression(lists), ())
        self._rebuild = threading.Lock()
        self.history: deque[tuple[datetime, datetime]] = deque(maxlen=50)
        """(read_at, live_since) of the recent snapshots, newest last: retro-hunt picks
        the newest that has been live long enough."""

    # the live matcher ----------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def refresh(self, force: bool = False) -> bool:
        """Rebuild the matcher when the store changed; True when it did."""
        with self._rebuild:
            read_at = datetime.now(UTC)
            with self.db.read() as session:
                print_ = self.store.fingerprint(session)
                if not force and print_ == self._snapshot.fingerprint:
                    return False
                frame = self.store.active_frame(session)
                allowed = {(k, v) for k, v in session.execute(
                    select(AllowRow.kind, AllowRow.value))}
            matcher = Matcher(frame, self.fields)
            live_since = datetime.now(UTC)
            self._snapshot = Snapshot(matcher, Suppression(self.lists, allowed), print_,
                                      read_at, live_since)
            self.history.append((read_at, live_since))
            return True

    def retire(self, now: datetime | None = None) -> int:
        with self.db.session() as session:
            return self.store.retire(session, now or datetime.now(UTC))

    def match(self, frame: pl.DataFrame, matcher: Matcher | None = None) -> pl.DataFrame:
        """Hits of ``frame`` (see :mod:`watchkeeper.intel.matcher`), less those whose event
        value is on a warning list or the allowlist (a listed address inside an indicated
        network, a listed host under an indicated domain)."""
        snapshot = self._snapshot
        hits = (matcher or snapshot.matcher).match(frame)
        if hits.height == 0:
            return hits
        pairs = hits.select("field", "value").unique()
        kinds = {field: kind for kind, fields in snapshot.matcher.fields.items()
                 for field in fields}
        benign: list[tuple[str, str]] = []
        for (field, value) in pairs.iter_rows():
            try:
                kind, canonical = canonical_pair(
                    _value_kind(kinds.get(field, Kind.DOMAIN), value), value)
            except InputError:
                continue
            if snapshot.suppression.reasons(kind, [canonical])[0] is not None:
                benign.append((field, value))
        if not benign:
            return hits
        drop = pl.DataFrame(benign, schema={"field": pl.String, "value": pl.String},
                            orient="row")
        return hits.join(drop, on=["field", "value"], how="anti")

    def rules_for(self, session: Session, hits: pl.DataFrame, *, retro: bool = False
                  ) -> list[Rule]:
        """One synthetic rule per matched indicator, in the order of
        ``hits["indicator"].unique(maintain_order=True)``, carrying its context."""
        ids = hits["indicator"].unique(maintain_order=True).to_list()
        stored = self.store.stored(session, ids)
        fields = {i: sorted(set(f)) for i, f in hits.group_by("indicator").agg(
            pl.col("field")).iter_rows()}
        # retired or allowlisted since the matcher was built: no alert
        return [_rule(stored[i], fields.get(i, []), retro) for i in ids
                if i in stored and stored[i].active]

    def with_matches(
        self, session: Session, frame: pl.DataFrame, hits: pl.DataFrame, rules: Sequence[Rule],
        matches: pl.DataFrame, groupings: Sequence[Grouping], *, retro: bool = False,
    ) -> tuple[list[Rule], pl.DataFrame]:
        """``rules`` and ``matches`` with one rule per matched indicator appended, and
        its hits as matches."""
        extra = self.rules_for(session, hits, retro=retro)
        index = {int(rule.id.removeprefix(RULE_PREFIX)): len(rules) + i
                 for i, rule in enumerate(extra)}
        hits = hits.filter(pl.col("indicator").is_in(list(index)))
        found = pl.DataFrame({
            "rule": hits["indicator"].replace_strict(index, return_dtype=pl.UInt32),
            "row": hits["row"],
        }).unique(maintain_order=True)
        more = match_rows(frame, found, groupings)
        return [*rules, *extra], pl.concat([matches, more.select(matches.columns)],
                                           how="vertical_relaxed")

    def record_seen(self, session: Session, counted: dict[str, int], now: datetime,
                    seen_at: dict[int, datetime] | None = None) -> None:
        """Matches in the events are sightings: they restart the decay clock, from when the
        events happened when that is known (a retro-hunt finds old ones). ``counted``: the
        matches the alert writer newly counted, per rule id (other rules' are left out)."""
        counts = {int(rule.removeprefix(RULE_PREFIX)): count for rule, count in counted.items()
                  if rule.startswith(RULE_PREFIX)}
        if not counts:
            return
        for ident, count in counts.items():
            # recorded now (partners page sightings by it); seen when the events were
            at = min(now, (seen_at or {}).get(ident, now))
            session.add(SightingRow(indicator_id=ident, kind="seen", at=now, by="system",
                                    count=count))
            later = IndicatorRow.last_sighting.is_(None) | (IndicatorRow.last_sighting < at)
            session.execute(update(IndicatorRow).where(IndicatorRow.id == ident).values(
                sightings=IndicatorRow.sightings + count,
                last_sighting=case((later, at), else_=IndicatorRow.last_sighting)))
        self.store.rescore(session, list(counts), now)

    # imports -------------------------------------------------------------------------

    def ingest(self, actor: str, result: FeedResult, source: str) -> ImportReport:
        if not source.strip():
            raise UsageError("an import needs a source name")
        with self.db.read() as session:
            allowed = {(k, v) for k, v in session.execute(select(AllowRow.kind, AllowRow.value))}
        suppression = Suppression(self.lists, allowed)
        report = ImportReport(source, received=len(result.indicators))
        # a value listed twice is one claim, whichever parts its records fall in
        merged = merge_values(result.indicators)
        values = list(merged.values())
        # a value revoked under one id and asserted under another stays asserted
        withdrawn = [(Kind(k), v) for k, v in result.withdrawn if (Kind(k), v) not in merged]
        # one transaction per part: a large feed never holds the write lock for long
        parts = [values[i:i + IMPORT_PART] for i in range(0, len(values), IMPORT_PART)] or [[]]
        for number, part in enumerate(parts):
            last = number == len(parts) - 1
            piece = FeedResult(part, result.problems if last else [],
                               withdrawn=withdrawn if last else [])
            with self.db.session() as session:
                report.add(self.store.ingest(session, piece, source, suppression))
        with self.db.session() as session:
            self.audit.append(session, actor, "intel.import", "intel_source", source,
                              after={k: v for k, v in report.as_dict().items()
                                     if k != "problems"})
        return report

    def add(self, actor: str, indicator: IndicatorIn) -> ImportReport:
        return self.ingest(actor, FeedResult([indicator], []), indicator.source)

    # sightings, allowlist ------------------------------------------------------------

    def sight(self, actor: str, indicator_id: int, kind: str, note: str = "",
              now: datetime | None = None) -> StoredIndicator:
        if kind not in SIGHTING_KINDS:
            raise UsageError(f"unknown sighting {kind!r} (known: {', '.join(SIGHTING_KINDS)})")
        now = now or datetime.now(UTC)
        with self.db.session() as session:
            row = session.get(IndicatorRow, indicator_id)
            if row is None:
                raise NotFoundError(f"no indicator {indicator_id}")
            session.add(SightingRow(indicator_id=row.id, kind=kind, at=now, by=actor,
                                    note=note[:2000]))
            if kind == "seen":
                row.sightings += 1
                row.last_sighting = now
            else:
                row.false_positives += 1
            row.updated_at = now
            self.store.rescore(session, [row.id], now)
            self.audit.append(session, actor, "intel.sighting", "indicator", row.id,
                              after={"kind": kind, "note": note[:2000], "score": row.score,
                                     "active": row.active})
            return self.store.stored(session, [row.id])[row.id]

    def alert_closed(self, actor: str, alert: dict[str, Any]) -> None:
        """An indicator's alert closed as a false positive is a false-positive sighting."""
        rule_id = str(alert.get("rule_id", ""))
        if alert.get("verdict") != "false_positive" or not rule_id.startswith(RULE_PREFIX):
            return
        try:
            self.sight(actor, int(rule_id.removeprefix(RULE_PREFIX)), "false-positive",
                       f"alert {alert['id']} closed as a false positive")
        except (NotFoundError, ValueError):
            return  # the indicator was removed since

    def sightings(self, indicator_id: int, limit: int = 100) -> list[StoredSighting]:
        with self.db.read() as session:
            rows = session.scalars(select(SightingRow).where(
                SightingRow.indicator_id == indicator_id).order_by(SightingRow.at.desc())
                .limit(limit)).all()
            return [_sighting(r) for r in rows]

    def allow(self, actor: str, kind: str, value: str, reason: str) -> dict[str, Any]:
        """Put a value on the allowlist: it, and for a network or a domain what is under
        it, never matches; the stored indicators it covers are marked at once."""
        entry_kind, canonical = canonical_pair(Kind(kind), value)
        now = datetime.now(UTC)
        with self.db.session() as session:
            if session.scalar(select(AllowRow.id).where(
                    AllowRow.kind == entry_kind.value, AllowRow.value == canonical)) is not None:
                raise UsageError(f"{entry_kind} {canonical} is already on the allowlist")
            row = AllowRow(kind=entry_kind.value, value=canonical, reason=reason[:2000],
                           added_by=actor, added_at=now)
            session.add(row)
            session.flush()
            self._resuppress(session, _covered(entry_kind, canonical), now)
            self.audit.append(session, actor, "intel.allow", "intel_allowlist", row.id,
                              after={"kind": entry_kind.value, "value": canonical,
                                     "reason": reason})
            return {"id": row.id, "kind": entry_kind.value, "value": canonical,
                    "reason": row.reason, "added_by": actor, "added_at": now}

    def disallow(self, actor: str, allow_id: int) -> None:
        """Take an entry off the allowlist: what it alone kept quiet matches again (what a
        warning list or another entry covers stays quiet)."""
        now = datetime.now(UTC)
        with self.db.session() as session:
            row = session.get(AllowRow, allow_id)
            if row is None:
                raise NotFoundError(f"no allowlist entry {allow_id}")
            before = {"kind": row.kind, "value": row.value}
            session.execute(delete(AllowRow).where(AllowRow.id == allow_id))
            self._resuppress(session, IndicatorRow.suppressed_by == "allowlist", now)
            self.audit.append(session, actor, "intel.disallow", "intel_allowlist", allow_id,
                              before=before)

    def _resuppress(self, session: Session, where: Any, now: datetime) -> None:
        """Decide again, with the allowlist as it now is, whether the rows ``where`` selects
        are suppressed; rescore those that changed."""
        allowed = {(k, v) for k, v in session.execute(select(AllowRow.kind, AllowRow.value))}
        suppression = Suppression(self.lists, allowed)
        changed: list[int] = []
        last = 0
        while True:
            rows = session.execute(
                select(IndicatorRow.id, IndicatorRow.kind, IndicatorRow.value,
                       IndicatorRow.suppressed_by)
                .where(where, IndicatorRow.id > last).order_by(IndicatorRow.id)
                .limit(IMPORT_PART)).all()
            if not rows:
                break
            last = rows[-1][0]
            by_kind: dict[str, list[tuple[int, str, str | None]]] = {}
            for ident, kind, value, suppressed in rows:
                by_kind.setdefault(kind, []).append((ident, value, suppressed))
            for kind, members in by_kind.items():
                reasons = suppression.reasons(Kind(kind), [m[1] for m in members])
                for (ident, _, suppressed), reason in zip(members, reasons, strict=True):
                    if reason != suppressed:
                        session.execute(update(IndicatorRow).where(IndicatorRow.id == ident)
                                        .values(suppressed_by=reason))
                        changed.append(ident)
        self.store.rescore(session, changed, now)

    def allowlist(self) -> list[dict[str, Any]]:
        with self.db.read() as session:
            return [{"id": r.id, "kind": r.kind, "value": r.value, "reason": r.reason,
                     "added_by": r.added_by, "added_at": r.added_at}
                    for r in session.scalars(select(AllowRow).order_by(AllowRow.id))]

    # reading -------------------------------------------------------------------------

    def get(self, indicator_id: int) -> StoredIndicator:
        with self.db.read() as session:
            found = self.store.stored(session, [indicator_id])
        if indicator_id not in found:
            raise NotFoundError(f"no indicator {indicator_id}")
        return found[indicator_id]

    def search(self, text: str = "", *, kind: str | None = None, source: str | None = None,
               active: bool | None = None, limit: int = 50, offset: int = 0
               ) -> tuple[list[StoredIndicator], int]:
        query = select(IndicatorRow)
        if text:
            pattern = f"%{like_literal(text.lower())}%"
            query = query.where(func.lower(IndicatorRow.value).like(pattern, escape="\\")
                                | func.lower(func.coalesce(IndicatorRow.threat, "")).like(
                                    pattern, escape="\\"))
        if kind:
            query = query.where(IndicatorRow.kind == Kind(kind).value)
        if active is not None:
            query = query.where(IndicatorRow.active.is_(active))
        if source:
            query = query.where(IndicatorRow.id.in_(select(IndicatorSourceRow.indicator_id)
                                .where(IndicatorSourceRow.source == source)))
        with self.db.read() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            page = query.order_by(IndicatorRow.updated_at.desc(), IndicatorRow.id.desc()) \
                .limit(max(1, min(limit, 1000))).offset(max(0, offset))
            return list(self.store.iter_rows(session, page)), int(total)

    def lookup(self, value: str) -> list[StoredIndicator]:
        """Every active indicator that ``value`` would match in an event (exact, inside an
        indicated network, under an indicated domain): what the ``intel.lookup`` action
        and the case observables show."""
        guessed = guess_kind(value)
        if guessed is None:
            return []
        kind, canonical = canonical_pair(guessed, value)
        field = {Kind.IPV4: "source.ip", Kind.IPV6: "source.ip", Kind.DOMAIN: "url.domain",
                 Kind.URL: "url.full", Kind.EMAIL: "email.from.address", Kind.CVE:
                 "vulnerability.id", Kind.MD5: "file.hash.md5", Kind.SHA1: "file.hash.sha1",
                 Kind.SHA256: "file.hash.sha256"}.get(kind)
        ids: list[int] = []
        if field is not None:
            hits = self._snapshot.matcher.match(pl.DataFrame({field: [canonical]}))
            ids = hits["indicator"].unique().to_list()
        # a 32-digit digest is an MD5 or a JA3 fingerprint: both are asked
        kinds = [kind, Kind.JA3] if kind is Kind.MD5 else [kind]
        with self.db.read() as session:
            for exact in session.scalars(select(IndicatorRow.id).where(IndicatorRow.key.in_(
                    [indicator_key(k.value, canonical) for k in kinds]))):
                if exact not in ids:
                    ids.insert(0, exact)
            found = self.store.stored(session, ids)
        return [found[i] for i in ids if i in found]

    def stats(self) -> dict[str, Any]:
        with self.db.read() as session:
            by_kind = {k: {"total": t, "active": a or 0} for k, t, a in session.execute(
                select(IndicatorRow.kind, func.count(IndicatorRow.id),
                       func.sum(func.cast(IndicatorRow.active, type_=Integer())))
                .group_by(IndicatorRow.kind))}
            by_source = dict(session.execute(
                select(IndicatorSourceRow.source, func.count(IndicatorSourceRow.id))
                .where(IndicatorSourceRow.withdrawn.is_(False))
                .group_by(IndicatorSourceRow.source)).all())
            suppressed = session.scalar(select(func.count(IndicatorRow.id)).where(
                IndicatorRow.suppressed_by.is_not(None))) or 0
            sightings = dict(session.execute(select(SightingRow.kind, func.sum(
                SightingRow.count)).group_by(SightingRow.kind)).all())
        return {
            "total": sum(v["total"] for v in by_kind.values()),
            "active": sum(int(v["active"]) for v in by_kind.values()),
            "suppressed": suppressed, "by_kind": by_kind, "by_source": by_source,
            "sightings": {k: int(v or 0) for k, v in sightings.items()},
            "matcher_size": self._snapshot.matcher.size,
            "warninglists": self.lists.names(),
        }


def matcher_fields(configured: dict[str, list[str]]) -> dict[Kind, tuple[str, ...]]:
    """``[intel] fields`` as the matcher takes it: IPv6 and CIDR indicators are matched in
    the IP fields, so fields given for them are IP fields too."""
    fields: dict[Kind, tuple[str, ...]] = {}
    extra_ip: list[str] = []
    for name, listed in configured.items():
        try:
            kind = Kind(name)
        except ValueError:
            raise UsageError(f"[intel] fields: unknown kind {name!r} "
                             f"(known: {', '.join(k.value for k in Kind)})") from None
        if kind in (Kind.IPV6, Kind.CIDR):
            extra_ip.extend(listed)
        else:
            fields[kind] = tuple(listed)
    if extra_ip:
        base = fields.get(Kind.IPV4, DEFAULT_FIELDS[Kind.IPV4])
        fields[Kind.IPV4] = tuple(dict.fromkeys([*base, *extra_ip]))
    return fields


def _covered(kind: Kind, value: str) -> Any:
    """The indicator rows an allowlist entry may cover: a network, the IP rows; a domain,
    itself, its subdomains and the URLs and addresses that may be on them; else the value."""
    if kind is Kind.CIDR:
        return IndicatorRow.kind.in_([Kind.IPV4.value, Kind.IPV6.value, Kind.CIDR.value])
    if kind is Kind.DOMAIN:
        escaped = like_literal(value)
        return or_(
            (IndicatorRow.kind == Kind.DOMAIN.value) & or_(
                IndicatorRow.value == value,
                IndicatorRow.value.like(f"%.{escaped}", escape="\\")),
            IndicatorRow.kind.in_([Kind.URL.value, Kind.EMAIL.value])
            & IndicatorRow.value.like(f"%{escaped}%", escape="\\"))
    return IndicatorRow.key == indicator_key(kind.value, value)


def _value_kind(kind: Kind, value: str) -> Kind:
    """The kind an event value is checked as against warning lists."""
    if kind is Kind.IPV4:
        return Kind.IPV6 if ":" in value else Kind.IPV4
    return kind


def _level(indicator: StoredIndicator) -> str:
    if indicator.score >= 70:
        return "high"
    return "medium" if indicator.score >= 40 else "low"


def _rule(indicator: StoredIndicator, fields: Sequence[str], retro: bool) -> Rule:
    shown = indicator.value if len(indicator.value) <= 120 else indicator.value[:117] + "..."
    about = indicator.threat or ", ".join(indicator.sources[:2]) or "intel"
    tags = ("intel", f"intel.{indicator.kind.value}", *indicator.tags,
            *(f"attack.{t.lower()}" for t in indicator.attack))
    context = {
        "type": "intel",
        "retro_hunt": retro,
        "fields": list(fields),
        "indicator": {
            "id": indicator.id, "kind": indicator.kind.value, "value": indicator.value,
            "confidence": indicator.confidence, "score": indicator.score,
            "tlp": indicator.tlp, "sources": list(indicator.sources),
            "threat": indicator.threat, "tags": list(indicator.tags),
            "attack": list(indicator.attack), "description": indicator.description[:2000],
            "first_seen": indicator.first_seen.isoformat(),
            "last_seen": indicator.last_seen.isoformat(),
            "valid_until": indicator.valid_until.isoformat() if indicator.valid_until else None,
        },
    }
    return Rule(
        id=f"{RULE_PREFIX}{indicator.id}", title=f"Threat intel: {indicator.kind.value} "
        f"{shown} ({about})", level=_level(indicator), status="stable",
        tags=tuple(dict.fromkeys(tags)), logsource=LogSource(),
        condition=ir.Const(False),
        path="intel", description=indicator.description[:2000], context=context)


def _sighting(row: SightingRow) -> StoredSighting:
    return StoredSighting(id=row.id, indicator_id=row.indicator_id, kind=row.kind, at=row.at,
                          by=row.by, count=row.count, event_id=row.event_id, note=row.note)

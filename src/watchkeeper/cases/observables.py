"""Observables of a case: the IPs, domains, hashes, users, hosts and processes its alerts
(and a bounded number of their events) name, each with when it was seen, the alerts it
came from and what the asset table says about it.

Extraction is pure (:func:`extract`); :class:`ObservableService` stores the result in
``case_observables``, once per case, kind and value, whenever alerts join a case (it is
registered as a :class:`~watchkeeper.cases.service.CaseService` link hook). Analysts add
more by hand. ``intel`` holds what the indicator store knows of an address, domain or hash
(the indicators it matches), filled by the intel lookup the service is given.
"""

from __future__ import annotations

import builtins
import ipaddress
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from watchkeeper.alerts.model import AlertEventRow, AlertRow
from watchkeeper.assets.model import AssetRow
from watchkeeper.audit.service import AuditLog
from watchkeeper.cases.evidence_model import CaseObservableRow
from watchkeeper.cases.model import CaseAlertRow, CaseRow
from watchkeeper.errors import ConflictError, NotFoundError, UsageError, WatchkeeperError
from watchkeeper.state.db import StateDB
from watchkeeper.store.base import EventStore

log = logging.getLogger(__name__)

KINDS = ("ip", "domain", "hash", "user", "host", "process")
ENTITY_KINDS = {"host": "host", "user": "user", "source_ip": "ip", "destination_ip": "ip",
                "process": "process"}
"""Alert entity → observable kind."""
EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "ip": ("source.ip", "destination.ip", "client.ip", "server.ip"),
    "domain": ("dns.question.name", "url.domain", "destination.domain", "source.domain",
               "server.domain"),
    "hash": ("file.hash.md5", "file.hash.sha1", "file.hash.sha256", "process.hash.md5",
             "process.hash.sha1", "process.hash.sha256"),
    "user": ("user.name",),
    "host": ("host.name",),
    "process": ("process.executable",),
}
"""Event fields read for each kind."""
MAX_EVENTS = 500
"""Events read from the store per refresh at most: observables stay cheap."""
HASH_LENGTHS = {32: "md5", 40: "sha1", 64: "sha256"}
_HEX = re.compile(r"[0-9a-f]+")
_DOMAIN = re.compile(
    r"(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOTHING = frozenset({"", "-", "n/a", "none", "null", "unknown"})


def normalize(kind: str, value: str) -> str:
    """``value`` in its one stored form, or :class:`UsageError` saying why it is not a
    valid ``kind``: an IP must parse, a hash be hex of MD5, SHA-1 or SHA-256 length."""
    if kind not in KINDS:
        raise UsageError(f"unknown observable kind {kind!r} (known: {', '.join(KINDS)})")
    text = value.strip()
    if not text or len(text) > 1000 or _CONTROL.search(text):
        raise UsageError(f"a {kind} observable needs a value of 1–1000 printable characters")
    if kind == "ip":
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            raise UsageError(f"{text!r} is not an IP address") from None
    if kind == "hash":
        lowered = text.lower()
        if len(lowered) not in HASH_LENGTHS or not _HEX.fullmatch(lowered):
            raise UsageError(f"{text!r} is not an MD5, SHA-1 or SHA-256 hash (hex of 32, 40 "
                             "or 64 digits)")
        return lowered
    if kind == "domain":
        lowered = text.lower().rstrip(".")
        if not _DOMAIN.fullmatch(lowered):
            raise UsageError(f"{text!r} is not a domain name")
        return lowered
    if kind == "host":
        return text.lower()
    return text


@dataclass(slots=True)
class Found:
    """One observable as extracted: when it was seen and in which alerts."""

    first_seen: datetime | None = None
    last_seen: datetime | None = None
    alert_ids: set[int] = field(default_factory=set)

    def saw(self, alert_id: int, first: datetime | None, last: datetime | None) -> None:
        self.alert_ids.add(alert_id)
        if first is not None and (self.first_seen is None or first < self.first_seen):
            self.first_seen = first
        if last is not None and (self.last_seen is None or last > self.last_seen):
            self.last_seen = last


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What extraction reads of an alert."""

    id: int
    entities: Mapping[str, Any]
    first_seen: datetime
    last_seen: datetime


def extract(alerts: Sequence[AlertFacts], events: pl.DataFrame | None = None,
            event_alerts: Mapping[str, int] | None = None) -> dict[tuple[str, str], Found]:
    """Observables of ``alerts`` (their entities) and of ``events`` (their fields; each
    event's alert from ``event_alerts``, keyed by ``event.id``). Values that are not valid
    for their kind (an IP field holding ``-``) are left out."""
    found: dict[tuple[str, str], Found] = {}

    def add(kind: str, raw: object, alert_id: int, first: datetime | None,
            last: datetime | None) -> None:
        if raw is None or str(raw).strip().lower() in _NOTHING:
            return
        try:
            value = normalize(kind, str(raw))
        except UsageError:
            return
        found.setdefault((kind, value), Found()).saw(alert_id, first, last)

    for alert in alerts:
        for entity, kind in ENTITY_KINDS.items():
            add(kind, alert.entities.get(entity), alert.id, alert.first_seen, alert.last_seen)
    if events is not None and event_alerts and "event.id" in events.columns:
        columns = [name for names in EVENT_FIELDS.values() for name in names
                   if name in events.columns]
        has_time = "@timestamp" in events.columns
        for row in events.select(["event.id", *columns,
                                  *(["@timestamp"] if has_time else [])]).iter_rows(named=True):
            alert_id = event_alerts.get(str(row["event.id"]))
            if alert_id is None:
                continue
            at = row.get("@timestamp") if has_time else None
            when = at if isinstance(at, datetime) else None
            for kind, names in EVENT_FIELDS.items():
                for name in names:
                    if name in row:
                        add(kind, row[name], alert_id, when, when)
    return found


def host_context(session: Session, hosts: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The asset table's criticality and owner of each host (full or short name)."""
    wanted = set(hosts)
    names = wanted | {host.split(".", 1)[0] for host in wanted}
    if not names:
        return {}
    assets = {row.name: row for row in session.execute(
        select(AssetRow).where(AssetRow.name.in_(names))).scalars()}
    context: dict[str, dict[str, Any]] = {}
    for host in wanted:
        asset = assets.get(host) or assets.get(host.split(".", 1)[0])
        if asset is not None:
            context[host] = {"asset": asset.name, "criticality": asset.criticality,
                             "owner": asset.owner}
    return context


def observable_dict(row: CaseObservableRow) -> dict[str, Any]:
    return {"id": row.id, "case_id": row.case_id, "kind": row.kind, "value": row.value,
            "first_seen": row.first_seen, "last_seen": row.last_seen,
            "alert_ids": sorted(row.alert_ids), "source": row.source, "context": row.context,
            "intel": row.intel, "note": row.note, "added_by": row.added_by,
            "created_at": row.created_at}


INTEL_KINDS = ("ip", "domain", "hash")
"""Observable kinds looked up in the indicator store."""


class ObservableService:
    def __init__(self, db: StateDB, audit: AuditLog, store: EventStore | None = None,
                 intel: Callable[[str], builtins.list[dict[str, Any]]] | None = None) -> None:
        self.db = db
        self.audit = audit
        self.store = store
        self.intel = intel

    def _intel(self, kind: str, value: str) -> dict[str, Any] | None:
        """``{"matches": [...]}``: the indicators ``value`` matches; None when none do."""
        if self.intel is None or kind not in INTEL_KINDS:
            return None
        try:
            matches = self.intel(value)
        except WatchkeeperError:
            return None
        return {"matches": matches} if matches else None

    def list(self, case_id: int) -> list[dict[str, Any]]:
        with self.db.read() as session:
            _case(session, case_id)
            rows = session.execute(
                select(CaseObservableRow).where(CaseObservableRow.case_id == case_id)
                .order_by(CaseObservableRow.kind, CaseObservableRow.value)).scalars()
            return [observable_dict(row) for row in rows]

    def add(self, actor: str, case_id: int, kind: str, value: str,
            note: str | None = None) -> dict[str, Any]:
        """An observable added by hand (409 if the case has it already)."""
        value = normalize(kind, value)
        with self.db.session() as session:
            row = _case(session, case_id)
            held = session.execute(select(CaseObservableRow).where(
                CaseObservableRow.case_id == case_id, CaseObservableRow.kind == kind,
                CaseObservableRow.value == value)).scalar_one_or_none()
            if held is not None:
                raise ConflictError(f"case {case_id} has the {kind} {value} already")
            context = host_context(session, [value]).get(value, {}) if kind == "host" else {}
            observable = CaseObservableRow(
                case_id=case_id, kind=kind, value=value, alert_ids=[], source="manual",
                context=context, intel=self._intel(kind, value), note=note, added_by=actor,
                created_at=datetime.now(UTC))
            session.add(observable)
            row.updated_at = datetime.now(UTC)
            session.flush()
            found = observable_dict(observable)
            self.audit.append(session, actor, "case.add_observable", "case", case_id, None,
                              {"kind": kind, "value": value})
            return found

    def refresh(self, session: Session, case_id: int) -> None:
        """Extract the case's observables again and store what is new or changed: the link
        hook, run in the transaction that adds alerts to the case."""
        alerts = list(session.execute(
            select(AlertRow).join(CaseAlertRow, CaseAlertRow.alert_id == AlertRow.id)
            .where(CaseAlertRow.case_id == case_id)).scalars())
        facts = [AlertFacts(a.id, a.entities, a.first_seen, a.last_seen) for a in alerts]
        found = extract(facts, *self._events(session, [a.id for a in alerts]))
        held = {(row.kind, row.value): row for row in session.execute(
            select(CaseObservableRow).where(CaseObservableRow.case_id == case_id)).scalars()}
        context = host_context(session, [v for k, v in found if k == "host"])
        now = datetime.now(UTC)
        for (kind, value), seen in found.items():
            row = held.get((kind, value))
            if row is None:
                row = CaseObservableRow(case_id=case_id, kind=kind, value=value,
                                        source="alerts", intel=None, added_by="system",
                                        created_at=now)
                session.add(row)
            row.first_seen, row.last_seen = seen.first_seen, seen.last_seen
            row.alert_ids = sorted(seen.alert_ids | set(row.alert_ids or ()))
            row.intel = self._intel(kind, value)
            if kind == "host":
                row.context = context.get(value, {})
        session.flush()

    def _events(self, session: Session, alert_ids: builtins.list[int]
                ) -> tuple[pl.DataFrame | None, dict[str, int]]:
        if self.store is None or not alert_ids:
            return None, {}
        pairs = session.execute(
            select(AlertEventRow.event_id, AlertEventRow.alert_id)
            .where(AlertEventRow.alert_id.in_(alert_ids))
            .order_by(AlertEventRow.id).limit(MAX_EVENTS)).all()
        event_alerts = {str(event_id): int(alert_id) for event_id, alert_id in pairs}
        if not event_alerts:
            return None, {}
        try:
            return self.store.get(list(event_alerts)), event_alerts
        except (OSError, pl.exceptions.PolarsError, WatchkeeperError) as error:
            log.warning("observables: events not read", extra={"error": str(error)})
            return None, {}


def _case(session: Session, case_id: int) -> CaseRow:
    row = session.get(CaseRow, case_id)
    if row is None:
        raise NotFoundError(f"no case {case_id}")
    return row

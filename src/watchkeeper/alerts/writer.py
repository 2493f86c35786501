"""The pipeline's last stage: the engine's matches become alerts, once each.

Idempotence: every counted (rule, event) pair is kept in ``alert_events`` under a
unique constraint, and pairs already there are dropped before anything is written,
so that a batch replayed after a crash adds nothing. Deduplication: a rule's matches
that share the values of its group-by fields, within its window (counted from the
alert's first match), are counted into one alert; with no group-by fields every
matching event gets its own alert.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import polars as pl
from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.orm import Session

from watchkeeper.alerts.model import AlertEventRow, AlertRow
from watchkeeper.alerts.risk import risk_score
from watchkeeper.detection.rules import Rule
from watchkeeper.events.model import EVENT_ID, INGESTED

CRITICALITY = "asset.criticality"
ENTITY_FIELDS = {
    "host": "host.name",
    "user": "user.name",
    "source_ip": "source.ip",
    "destination_ip": "destination.ip",
    "process": "process.executable",
}
"""Entity name in an alert → the canonical event field it is read from."""
ALERTS = AlertRow.metadata.tables[AlertRow.__tablename__]
ALERT_EVENTS = AlertEventRow.metadata.tables[AlertEventRow.__tablename__]
_LOOKUP_CHUNK = 400
"""Pairs per lookup: two bound values each, well under every database's limit."""


@dataclass(frozen=True, slots=True)
class Grouping:
    fields: tuple[str, ...] = ()
    window: timedelta = timedelta(hours=1)


@dataclass(slots=True)
class AlertStats:
    matches: int = 0
    duplicates: int = 0
    """Pairs already counted (a replay)."""
    created: int = 0
    grouped: int = 0
    """Matches counted into an alert that already existed."""
    created_ids: list[int] = field(default_factory=list)
    counted: dict[str, int] = field(default_factory=dict)
    """Matches newly counted, per rule id (a replay counts none)."""


@dataclass(slots=True)
class _Window:
    """Matches of one rule and group that fall into one alert."""

    rule: Rule
    key: str
    first: datetime
    alert_id: int | None = None
    """The alert they count into when it already exists."""
    members: list[dict[str, Any]] = field(default_factory=list)


def match_columns(groupings: Sequence[Grouping]) -> list[str]:
    """The event columns :meth:`AlertWriter.record` reads, besides ``rule``."""
    wanted = [EVENT_ID, "@timestamp", INGESTED, CRITICALITY, *ENTITY_FIELDS.values()]
    for grouping in groupings:
        wanted.extend(f for f in grouping.fields if f not in wanted)
    return wanted


class AlertWriter:
    """Records matches as alerts inside the caller's transaction."""

    def record(
        self,
        session: Session,
        matches: pl.DataFrame,
        rules: Sequence[Rule],
        grouping: Callable[[Rule], Grouping],
        now: datetime | None = None,
    ) -> AlertStats:
        """``matches``: one row per (rule index ``rule``, event) with the columns of
        :func:`match_columns` (missing ones are read as null)."""
        stats = AlertStats(matches=matches.height)
        if matches.height == 0:
            return stats
        now = now or datetime.now(UTC)
        matches = _fresh(session, _with_rule_ids(matches, rules))
        stats.duplicates = stats.matches - matches.height
        stats.counted = dict(matches.group_by("rule_id").len().iter_rows())
        rows = matches.sort(["@timestamp", EVENT_ID], nulls_last=True).to_dicts()
        by_rule: dict[str, Rule] = {rule.id: rule for rule in rules}
        windows: list[_Window] = []
        for rule_id, key, group in _groups(rows, by_rule, grouping):
            rule = by_rule[rule_id]
            rule_grouping = grouping(rule)
            current = (
                _open_alert(session, rule, key, group[0], rule_grouping.window)
                if rule_grouping.fields
                else None
            )
            if current is not None:
                windows.append(current)
            for match in group:
                when = _when(match)
                if current is None or when >= current.first + rule_grouping.window:
                    current = _Window(rule, key, when)
                    windows.append(current)
                current.members.append(match)
        fresh = [w for w in windows if w.alert_id is None]
        for window in windows:
            if window.alert_id is not None and window.members:
                _count_into(session, window.alert_id, window.rule.id, window.members)
                stats.grouped += len(window.members)
        if fresh:
            # Core statements, not the ORM's: thousands of rows go in a few multi-row
            # statements. A new alert is known by its rule and first event, a unique pair.
            alerts = ALERTS.c
            created = {
                (rule_id, first_event): alert_id
                for alert_id, rule_id, first_event in session.execute(
                    insert(ALERTS).returning(alerts.id, alerts.rule_id, alerts.first_event_id),
                    [_new_alert(w, now) for w in fresh],
                )
            }
            links = []
            for window in fresh:
                alert_id = created[(window.rule.id, window.members[0][EVENT_ID])]
                links.extend(_links(alert_id, window.rule.id, window.members))
                stats.grouped += len(window.members) - 1
                stats.created_ids.append(alert_id)
            session.execute(insert(ALERT_EVENTS), links)
            stats.created = len(created)
        return stats


def group_key(rule_id: str, values: Sequence[object]) -> str:
    return hashlib.sha256(orjson.dumps([rule_id, *values])).hexdigest()


def _with_rule_ids(matches: pl.DataFrame, rules: Sequence[Rule]) -> pl.DataFrame:
    ids = pl.Series("rule_id", [rule.id for rule in rules], dtype=pl.String)
    return matches.with_columns(ids.gather(matches["rule"]).alias("rule_id"))


def _fresh(session: Session, matches: pl.DataFrame) -> pl.DataFrame:
    """Matches whose (rule, event) pair is not yet counted, each pair once. The lookup is
    by pairs, which the unique index on (rule_id, event_id) answers."""
    matches = matches.unique(["rule_id", EVENT_ID], keep="first", maintain_order=True)
    pairs = list(zip(matches["rule_id"].to_list(), matches[EVENT_ID].to_list(), strict=True))
    seen: set[tuple[str, str]] = set()
    for start in range(0, len(pairs), _LOOKUP_CHUNK):
        part = pairs[start : start + _LOOKUP_CHUNK]
        query = select(AlertEventRow.rule_id, AlertEventRow.event_id).where(
            tuple_(AlertEventRow.rule_id, AlertEventRow.event_id).in_(part)
        )
        seen.update((rule_id, event_id) for rule_id, event_id in session.execute(query))
    if not seen:
        return matches
    known = pl.DataFrame(
        {"rule_id": [s[0] for s in seen], EVENT_ID: [s[1] for s in seen]},
        schema={"rule_id": pl.String, EVENT_ID: pl.String},
    )
    return matches.join(known, on=["rule_id", EVENT_ID], how="anti", maintain_order="left")


def _groups(
    rows: list[dict[str, Any]], rules: dict[str, Rule], grouping: Callable[[Rule], Grouping]
) -> Iterator[tuple[str, str, list[dict[str, Any]]]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        fields = grouping(rules[row["rule_id"]]).fields
        values = [row.get(f) for f in fields] if fields else [row[EVENT_ID]]
        pair = (row["rule_id"], group_key(row["rule_id"], values))
        groups.setdefault(pair, []).append(row)
    for (rule_id, key), members in groups.items():
        yield rule_id, key, members


def _when(match: dict[str, Any]) -> datetime:
    value = match.get("@timestamp") or match.get(INGESTED)
    return value if isinstance(value, datetime) else datetime.now(UTC)


def _open_alert(
    session: Session, rule: Rule, key: str, first: dict[str, Any], window: timedelta
) -> _Window | None:
    query = (
        select(AlertRow.id, AlertRow.first_seen)
        .where(
            AlertRow.rule_id == rule.id,
            AlertRow.group_key == key,
            AlertRow.status != "closed",
            # an open alert whose window holds this match, also when the match is older
            # than the alert's first one (events arrive out of order)
            AlertRow.first_seen > _when(first) - window,
            AlertRow.first_seen < _when(first) + window,
        )
        .order_by(AlertRow.first_seen.desc())
        .limit(1)
    )
    found = session.execute(query).first()
    return _Window(rule, key, found[1], alert_id=found[0]) if found else None


def _new_alert(window: _Window, now: datetime) -> dict[str, Any]:
    rule, first = window.rule, window.members[0]
    criticality = first.get(CRITICALITY)
    entities = {name: first.get(column) for name, column in ENTITY_FIELDS.items()}
    times = [_when(m) for m in window.members]
    return {
        "rule_id": rule.id,
        "rule_title": rule.title,
        "level": rule.level,
        "tags": list(rule.tags),
        "tactics": list(rule.tactics),
        "group_key": window.key,
        "entities": {k: v for k, v in entities.items() if v is not None},
        "host": str(entities["host"]).lower() if entities["host"] is not None else None,
        "asset_criticality": criticality,
        "risk_score": risk_score(rule.level, criticality),
        "status": "new",
        "first_seen": min(times),
        "last_seen": max(times),
        "count": len(window.members),
        "context": rule.context,
        "first_event_id": first[EVENT_ID],
        "first_ingested": first.get(INGESTED) or now,
        "created_at": now,
        "updated_at": now,
    }


def _links(alert_id: int, rule_id: str, members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"alert_id": alert_id, "rule_id": rule_id, "event_id": m[EVENT_ID],
         "timestamp": m.get("@timestamp")}
        for m in members
    ]


def _count_into(
    session: Session, alert_id: int, rule_id: str, members: list[dict[str, Any]]
) -> None:
    session.execute(insert(ALERT_EVENTS), _links(alert_id, rule_id, members))
    times = [_when(m) for m in members]
    first, last = session.execute(
        select(AlertRow.first_seen, AlertRow.last_seen).where(AlertRow.id == alert_id)
    ).one()
    session.execute(
        update(AlertRow)
        .where(AlertRow.id == alert_id)
        .values(
            count=AlertRow.count + len(members),
            first_seen=min(first, *times),
            last_seen=max(last, *times),
            updated_at=datetime.now(UTC),
        )
    )


def match_rows(
    frame: pl.DataFrame, found: pl.DataFrame | None, groupings: Sequence[Grouping]
) -> pl.DataFrame:
    """The matching events' columns :meth:`AlertWriter.record` reads, one row per (rule,
    event): ``found`` has the rule index ``rule`` and the event's ``row`` in ``frame``."""
    wanted = match_columns(groupings)
    schema = {name: frame.schema.get(name, pl.String) for name in wanted}
    if found is None or found.height == 0:
        return pl.DataFrame(schema={"rule": pl.UInt32, **schema})
    present = [name for name in wanted if name in frame.columns]
    picked = frame.select(present)[found["row"]]
    missing = [pl.lit(None, dtype=pl.String).alias(n) for n in wanted if n not in frame.columns]
    return picked.with_columns(*missing, found["rule"].alias("rule"))

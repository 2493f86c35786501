"""Related alerts grouped into one incident, and the kill chain a case has walked.

:func:`cluster` is pure: alerts that share an entity (host, user, or an IP as source or
destination) within a window are joined (union-find), and each cluster's ATT&CK tactics
are put in kill-chain order. :class:`GroupingService` runs it over the open alerts on the
server's schedule: a cluster of two or more alerts that no case holds becomes a case
"Multi-stage activity on <entity>"; new alerts of a cluster that an open case already
holds part of join that case. A second run over the same alerts changes nothing.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from watchkeeper.alerts.model import AlertRow
from watchkeeper.auth.principal import SYSTEM_NAME
from watchkeeper.cases.model import CaseAlertRow, CaseRow
from watchkeeper.cases.service import OPEN_STATUSES, SEVERITY_OF_LEVEL, CaseService, NewCase
from watchkeeper.errors import ConflictError, NotFoundError
from watchkeeper.state.db import StateDB

log = logging.getLogger(__name__)

KILL_CHAIN = (
    "reconnaissance", "resource-development", "initial-access", "execution", "persistence",
    "privilege-escalation", "defense-evasion", "credential-access", "discovery",
    "lateral-movement", "collection", "command-and-control", "exfiltration", "impact",
)
"""The 14 ATT&CK enterprise tactics, in the order an intrusion moves through them."""
RANK = {name: index for index, name in enumerate(KILL_CHAIN)}
RANK |= {"stealth": RANK["defense-evasion"], "defense-impairment": RANK["defense-evasion"]}
"""Tactics of newer ATT&CK versions split from defense evasion rank where it does."""
LEVELS = ("informational", "low", "medium", "high", "critical")
GROUP_ENTITIES = {"host": "host", "user": "user", "source_ip": "ip", "destination_ip": "ip"}
"""Alert entity → the key it is shared under (an IP links as source or destination)."""
IGNORED = frozenset({"", "-", "unknown", "n/a", "none", "null", "system", "local service",
                     "network service", "localhost", "127.0.0.1", "::1", "0.0.0.0", "::"})  # noqa: S104
"""Values too common to mean two alerts are one incident."""
KIND_ORDER = {"host": 0, "user": 1, "ip": 2}
LOOKBACK = timedelta(days=1)
"""Alerts whose last match is older than this (or the window, if longer) are not grouped."""
OPEN_CASE = OPEN_STATUSES


@dataclass(frozen=True, slots=True)
class GroupAlert:
    """What grouping reads of an alert."""

    id: int
    first_seen: datetime
    last_seen: datetime
    entities: Mapping[str, Any]
    tactics: tuple[str, ...] = ()
    level: str = "medium"


@dataclass(frozen=True, slots=True)
class Cluster:
    alert_ids: tuple[int, ...]
    entity: tuple[str, str]
    """``(kind, value)`` shared by the most alerts of the cluster: what it is named after."""
    tactics: tuple[str, ...]
    level: str
    first_seen: datetime
    last_seen: datetime


def tactic_name(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")


def entity_keys(alert: GroupAlert) -> set[tuple[str, str]]:
    keys = set()
    for entity, kind in GROUP_ENTITIES.items():
        value = str(alert.entities.get(entity) or "").strip().lower()
        if value not in IGNORED:
            keys.add((kind, value))
    return keys


def killchain(alerts: Iterable[GroupAlert]) -> list[dict[str, Any]]:
    """Each tactic of ``alerts`` with when it was first seen and its alerts, in kill-chain
    order, then by first appearance (tactics outside the kill chain come last)."""
    first: dict[str, datetime] = {}
    holders: dict[str, list[int]] = defaultdict(list)
    for alert in sorted(alerts, key=lambda a: (a.first_seen, a.id)):
        for raw in alert.tactics:
            name = tactic_name(raw)
            first.setdefault(name, alert.first_seen)
            if alert.id not in holders[name]:
                holders[name].append(alert.id)
    order = sorted(first, key=lambda n: (RANK.get(n, len(KILL_CHAIN)), first[n], n))
    return [{"tactic": name, "stage": RANK.get(name), "first_seen": first[name],
             "alert_ids": holders[name]} for name in order]


def cluster(alerts: Sequence[GroupAlert], window: timedelta) -> list[Cluster]:
    """Clusters of two or more alerts, oldest first: two alerts are joined when they share
    an entity and their times (first to last match) come within ``window`` of each other."""
    parent = {alert.id: alert.id for alert in alerts}

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    holders: dict[tuple[str, str], list[GroupAlert]] = defaultdict(list)
    for alert in alerts:
        for key in entity_keys(alert):
            holders[key].append(alert)
    for members in holders.values():
        members.sort(key=lambda a: (a.first_seen, a.id))
        reach: GroupAlert | None = None
        for alert in members:
            if reach is not None and alert.first_seen - reach.last_seen <= window:
                parent[find(alert.id)] = find(reach.id)
            if reach is None or alert.last_seen > reach.last_seen:
                reach = alert
    groups: dict[int, list[GroupAlert]] = defaultdict(list)
    for alert in alerts:
        groups[find(alert.id)].append(alert)
    found = [_cluster(members) for members in groups.values() if len(members) >= 2]
    return sorted(found, key=lambda c: (c.first_seen, c.alert_ids))


def _cluster(members: list[GroupAlert]) -> Cluster:
    shared = Counter(key for alert in members for key in entity_keys(alert))
    entity = min(shared, key=lambda k: (-shared[k], KIND_ORDER[k[0]], k[1]))
    level = max((a.level for a in members),
                key=lambda lv: LEVELS.index(lv) if lv in LEVELS else 2)
    return Cluster(
        alert_ids=tuple(sorted(a.id for a in members)), entity=entity,
        tactics=tuple(step["tactic"] for step in killchain(members)), level=level,
        first_seen=min(a.first_seen for a in members),
        last_seen=max(a.last_seen for a in members))


def _facts(row: AlertRow) -> GroupAlert:
    return GroupAlert(row.id, row.first_seen, row.last_seen, row.entities,
                      tuple(str(t) for t in row.tactics), row.level)


class GroupingService:
    def __init__(self, db: StateDB, cases: CaseService, window_s: int = 3600) -> None:
        self.db = db
        self.cases = cases
        self.window = timedelta(seconds=window_s)

    def group_open_alerts(self, now: datetime) -> list[dict[str, Any]]:
        """Open cases for new clusters and extend open cases with their cluster's new
        alerts; returns what was done (``case_id``, ``created``, ``alert_ids``)."""
        since = now - max(LOOKBACK, self.window)
        with self.db.read() as session:
            rows = session.execute(
                select(AlertRow, CaseAlertRow.case_id, CaseRow.status)
                .outerjoin(CaseAlertRow, CaseAlertRow.alert_id == AlertRow.id)
                .outerjoin(CaseRow, CaseRow.id == CaseAlertRow.case_id)
                .where(AlertRow.last_seen >= since,
                       or_(AlertRow.status != "closed", CaseRow.status.in_(OPEN_CASE)))
            ).all()
            alerts, case_of = [], {}
            for alert, case_id, status in rows:
                if case_id is not None and status not in OPEN_CASE:
                    continue  # settled incidents neither take nor lend alerts
                alerts.append(_facts(alert))
                case_of[alert.id] = case_id
        done: list[dict[str, Any]] = []
        for found in cluster(alerts, self.window):
            new = tuple(i for i in found.alert_ids if case_of[i] is None)
            holding = sorted({case_of[i] for i in found.alert_ids if case_of[i] is not None})
            try:
                if holding and new:
                    self.cases.add_alerts(SYSTEM_NAME, holding[0], new)
                    done.append({"case_id": holding[0], "created": False, "alert_ids": new})
                elif len(new) >= 2:
                    made = self.cases.create(SYSTEM_NAME, _new_case(found), new)
                    done.append({"case_id": made["id"], "created": True, "alert_ids": new})
            except (ConflictError, NotFoundError) as error:
                # an analyst moved one of the alerts meanwhile: the next run sees it
                log.info("grouping skipped a cluster", extra={"reason": error.message})
        return done

    def killchain(self, case_id: int) -> list[dict[str, Any]]:
        with self.db.read() as session:
            if session.get(CaseRow, case_id) is None:
                raise NotFoundError(f"no case {case_id}")
            rows = session.execute(
                select(AlertRow).join(CaseAlertRow, CaseAlertRow.alert_id == AlertRow.id)
                .where(CaseAlertRow.case_id == case_id)).scalars()
            return killchain([_facts(row) for row in rows])


def _new_case(found: Cluster) -> NewCase:
    kind, value = found.entity
    return NewCase(
        title=f"Multi-stage activity on {value}",
        severity=SEVERITY_OF_LEVEL.get(found.level, "medium"),
        description=(f"{len(found.alert_ids)} alerts sharing the {kind} {value}, "
                     f"{found.first_seen:%Y-%m-%d %H:%M} to {found.last_seen:%Y-%m-%d %H:%M} "
                     "UTC, grouped automatically."),
        tags=found.tactics)

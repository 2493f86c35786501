"""The alert queue and an alert's lifecycle: new → acknowledged → closed with a verdict.

Every change records who and when on the alert and in the audit log, in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchkeeper.alerts.model import AlertEventRow, AlertRow
from watchkeeper.audit.service import AuditLog
from watchkeeper.errors import ConflictError, NotFoundError, UsageError
from watchkeeper.state.db import StateDB
from watchkeeper.state.paging import page

STATUSES = ("new", "acknowledged", "closed")
VERDICTS = ("true_positive", "false_positive", "benign")
SORTS = {
    "risk": (AlertRow.risk_score.desc(), AlertRow.last_seen.desc()),
    "last_seen": (AlertRow.last_seen.desc(),),
    "first_seen": (AlertRow.first_seen.desc(),),
    "count": (AlertRow.count.desc(), AlertRow.last_seen.desc()),
}
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class AlertFilter:
    status: tuple[str, ...] = ()
    level: tuple[str, ...] = ()
    rule_id: str | None = None
    host: str | None = None
    min_risk: int | None = None
    since: datetime | None = None
    """Alerts last seen at or after this time."""
    until: datetime | None = None
    sort: str = "risk"
    limit: int = 50
    offset: int = 0

    def check(self) -> None:
        unknown = [s for s in self.status if s not in STATUSES]
        if unknown:
            raise UsageError(f"unknown status {unknown[0]!r} (known: {', '.join(STATUSES)})")
        if self.sort not in SORTS:
            raise UsageError(f"unknown sort {self.sort!r} (known: {', '.join(SORTS)})")
        if not 1 <= self.limit <= MAX_LIMIT or self.offset < 0:
            raise UsageError(f"limit must be 1–{MAX_LIMIT} and offset ≥ 0")


def alert_dict(row: AlertRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "rule_id": row.rule_id,
        "rule_title": row.rule_title,
        "level": row.level,
        "tags": row.tags,
        "tactics": row.tactics,
        "entities": row.entities,
        "asset_criticality": row.asset_criticality,
        "risk_score": row.risk_score,
        "status": row.status,
        "verdict": row.verdict,
        "first_seen": row.first_seen,
        "last_seen": row.last_seen,
        "count": row.count,
        "first_event_id": row.first_event_id,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "acknowledged_by": row.acknowledged_by,
        "acknowledged_at": row.acknowledged_at,
        "closed_by": row.closed_by,
        "closed_at": row.closed_at,
        "note": row.note,
        "context": row.context,
    }


class AlertService:
    def __init__(self, db: StateDB, audit: AuditLog) -> None:
        self.db = db
        self.audit = audit
        self.close_hooks: list[Callable[[str, dict[str, Any]], None]] = []
        """Called with the actor and the closed alert once its close is committed (a
        false positive on a threat-intel alert becomes a sighting of the indicator)."""

    def list(self, wanted: AlertFilter) -> tuple[list[dict[str, Any]], int]:
        """One page of alerts, and how many match in all."""
        wanted.check()
        query = select(AlertRow)
        if wanted.status:
            query = query.where(AlertRow.status.in_(wanted.status))
        if wanted.level:
            query = query.where(AlertRow.level.in_(wanted.level))
        if wanted.rule_id:
            query = query.where(AlertRow.rule_id == wanted.rule_id)
        if wanted.host:
            query = query.where(AlertRow.host == wanted.host.lower())
        if wanted.min_risk is not None:
            query = query.where(AlertRow.risk_score >= wanted.min_risk)
        if wanted.since:
            query = query.where(AlertRow.last_seen >= wanted.since)
        if wanted.until:
            query = query.where(AlertRow.last_seen < wanted.until)
        with self.db.read() as session:
            rows, total = page(session, query, (*SORTS[wanted.sort], AlertRow.id.desc()),
                               wanted.limit, wanted.offset)
            return [alert_dict(r) for r in rows], total

    def get(self, alert_id: int) -> dict[str, Any]:
        with self.db.read() as session:
            row = _row(session, alert_id)
            events = session.execute(
                select(AlertEventRow.event_id)
                .where(AlertEventRow.alert_id == alert_id)
                .order_by(AlertEventRow.timestamp, AlertEventRow.id)
                .limit(100)
            ).scalars()
            return {**alert_dict(row), "event_ids": list(events)}

    def acknowledge(self, alert_id: int, actor: str, note: str | None = None) -> dict[str, Any]:
        with self.db.session() as session:
            row = _row(session, alert_id)
            if row.status != "new":
                raise ConflictError(f"alert {alert_id} is {row.status}, not new")
            before = alert_dict(row)
            now = datetime.now(UTC)
            row.status, row.acknowledged_by, row.acknowledged_at = "acknowledged", actor, now
            return self._changed(session, row, actor, "alert.acknowledge", before, note)

    def close(
        self, alert_id: int, actor: str, verdict: str, note: str | None = None
    ) -> dict[str, Any]:
        if verdict not in VERDICTS:
            raise UsageError(f"unknown verdict {verdict!r} (known: {', '.join(VERDICTS)})")
        with self.db.session() as session:
            row = _row(session, alert_id)
            if row.status == "closed":
                raise ConflictError(f"alert {alert_id} is already closed")
            before = alert_dict(row)
            now = datetime.now(UTC)
            if row.acknowledged_at is None:
                row.acknowledged_by, row.acknowledged_at = actor, now
            row.status, row.verdict, row.closed_by, row.closed_at = "closed", verdict, actor, now
            closed = self._changed(session, row, actor, "alert.close", before, note)
        for hook in self.close_hooks:
            hook(actor, closed)
        return closed

    def reopen(self, alert_id: int, actor: str, note: str | None = None) -> dict[str, Any]:
        with self.db.session() as session:
            row = _row(session, alert_id)
            if row.status != "closed":
                raise ConflictError(f"alert {alert_id} is {row.status}, not closed")
            before = alert_dict(row)
            row.status, row.verdict, row.closed_by, row.closed_at = "acknowledged", None, None, None
            return self._changed(session, row, actor, "alert.reopen", before, note)

    def _changed(
        self,
        session: Session,
        row: AlertRow,
        actor: str,
        action: str,
        before: dict[str, Any],
        note: str | None,
    ) -> dict[str, Any]:
        if note is not None:
            row.note = note
        row.updated_at = datetime.now(UTC)
        session.flush()
        after = alert_dict(row)
        self.audit.append(
            session, actor, action, "alert", str(row.id), _changes(before), _changes(after)
        )
        return after


_AUDITED = ("status", "verdict", "acknowledged_by", "closed_by", "note")


def _changes(alert: dict[str, Any]) -> dict[str, Any]:
    return {key: alert[key] for key in _AUDITED}


def _row(session: Session, alert_id: int) -> AlertRow:
    row = session.get(AlertRow, alert_id)
    if row is None:
        raise NotFoundError(f"no alert {alert_id}")
    return row


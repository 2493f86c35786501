"""What a handover says, gathered from the state database as JSON-ready data.

The snapshot keeps one key per section. ``incidents`` and ``tasks`` are placeholders until
cases and approvals exist: each is ``{"items": [], "source": None}``, and a capability that
records them fills ``items`` (dicts with at least ``title``) and names itself in ``source``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchkeeper.alerts.model import AlertRow
from watchkeeper.audit.model import AuditEntry

SNAPSHOT_VERSION = 1
NOTABLE_LEVELS = ("critical", "high")
MAX_NOTABLE = 100
"""High and critical alerts listed one by one; the count says if there were more."""
CHANGE_ACTIONS = ("rule.update", "exception.create", "exception.delete", "roster.update")
MAX_CHANGES = 200


def gather(session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    """Every section of a handover covering ``[start, end)``."""
    return {
        "version": SNAPSHOT_VERSION,
        "alerts": _alerts(session, start, end),
        "changes": _changes(session, start, end),
        "incidents": {"items": [], "source": None},
        "tasks": {"items": [], "source": None},
    }


def _alerts(session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    counts = {
        status: count for status, count in session.execute(
            select(AlertRow.status, func.count())
            .where(AlertRow.status.in_(("new", "acknowledged")))
            .group_by(AlertRow.status)
        )
    }
    window = (AlertRow.created_at >= start, AlertRow.created_at < end,
              AlertRow.level.in_(NOTABLE_LEVELS))
    total = session.execute(select(func.count()).where(*window)).scalar_one()
    rows = session.execute(
        select(AlertRow).where(*window)
        .order_by(AlertRow.risk_score.desc(), AlertRow.id).limit(MAX_NOTABLE)
    ).scalars()
    return {
        "open": {"new": int(counts.get("new", 0)),
                 "acknowledged": int(counts.get("acknowledged", 0))},
        "new_high_total": int(total),
        "new_high": [
            {"id": r.id, "level": r.level, "rule_title": r.rule_title, "host": r.host,
             "risk_score": r.risk_score, "status": r.status, "created_at": r.created_at}
            for r in rows
        ],
    }


def _changes(session: Session, start: datetime, end: datetime) -> list[dict[str, Any]]:
    rows = session.execute(
        select(AuditEntry)
        .where(AuditEntry.at >= start, AuditEntry.at < end,
               AuditEntry.action.in_(CHANGE_ACTIONS))
        .order_by(AuditEntry.id).limit(MAX_CHANGES)
    ).scalars()
    return [
        {"at": r.at, "actor": r.actor, "action": r.action, "object_id": r.object_id,
         "summary": describe(r.action, r.object_id, r.before, r.after)}
        for r in rows
    ]


def describe(
    action: str, object_id: str | None, before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> str:
    """One line that says what an audited change did."""
    if action == "rule.update":
        was = (before or {}).get("enabled", True)
        now = (after or {}).get("enabled", True)
        if was != now:
            return f"rule {object_id} {'enabled' if now else 'disabled'}"
        return f"rule {object_id} grouping changed"
    if action == "exception.create":
        return f"exception {object_id} added: {(after or {}).get('reason', '')}"
    if action == "exception.delete":
        return f"exception {object_id} removed: {(before or {}).get('reason', '')}"
    if action == "roster.update":
        return "shift roster changed"
    return action

"""Reading notifications addressed to a role."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from watchkeeper.notifications.model import NotificationRow
from watchkeeper.state.db import StateDB

MAX_LIMIT = 500


def notification_dict(row: NotificationRow) -> dict[str, Any]:
    return {"id": row.id, "to_role": row.to_role, "case_id": row.case_id, "kind": row.kind,
            "message": row.message, "created_at": row.created_at, "read_at": row.read_at}


def for_role(db: StateDB, role: str, limit: int = 100) -> list[dict[str, Any]]:
    """The notifications to ``role``, newest first."""
    with db.read() as session:
        rows = session.execute(
            select(NotificationRow).where(NotificationRow.to_role == role)
            .order_by(NotificationRow.created_at.desc(), NotificationRow.id.desc())
            .limit(min(limit, MAX_LIMIT))).scalars().all()
        return [notification_dict(row) for row in rows]

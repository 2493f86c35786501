"""Containment in force, each entry paired with its undo: rolled back on demand or when its
TTL runs out.

An entry is recorded when a containment action succeeds, with the state before it acted
and the inputs of the action that reverses it. A rollback runs that action under the key
``rollback:<id>``, so a rollback retried after a crash acts once on an idempotent remote.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from watchkeeper.audit.service import AuditLog
from watchkeeper.errors import ConflictError, NotFoundError, WatchkeeperError
from watchkeeper.response.calls import Called, Caller
from watchkeeper.response.run_model import ContainmentRow
from watchkeeper.state.db import StateDB

log = logging.getLogger(__name__)
ROLLBACK_TIMEOUT_S = 60.0
MAX_LIST = 500
TTL_ACTOR = "system:ttl"
UNDOABLE = ("active", "rollback_failed", "rolling_back")
RETRY_FIRST = timedelta(minutes=1)
RETRY_MAX = timedelta(days=1)
STALE_ROLLBACK = timedelta(minutes=10)
"""A rollback still under way after this long was cut off: take it back."""


class Ledger:
    def __init__(self, db: StateDB, audit: AuditLog, caller: Caller) -> None:
        self.db = db
        self.audit = audit
        self.caller = caller

    def record(self, session: Session, *, key: str, run_id: int | None, case_id: int | None,
               playbook: str, connector: str | None, called: Called, ttl_s: float | None,
               now: datetime) -> int:
        """Remember a containment action just taken; the same ``key`` twice records once."""
        found = session.execute(select(ContainmentRow.id).where(ContainmentRow.key == key)
                                ).scalar_one_or_none()
        if found is not None:
            return found
        action = called.action
        assert action.undo is not None
        row = ContainmentRow(
            run_id=run_id, case_id=case_id, key=key, action=action.name, connector=connector,
            target=_target(called), inputs=called.inputs, outputs=called.outputs,
            before=called.before, undo_action=action.undo, undo_inputs=called.undo_inputs or {},
            status="active", created_at=now, updated_at=now, rollback_attempts=0,
            expires_at=None if ttl_s is None else now + timedelta(seconds=ttl_s))
        session.add(row)
        session.flush()
        self.audit.append(session, f"playbook:{playbook}", "containment.apply", "containment",
                          row.id, None, containment_dict(row))
        return row.id

    def find(self, status: str | None = None, case_id: int | None = None,
             run_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
        with self.db.read() as session:
            query = select(ContainmentRow).order_by(ContainmentRow.id.desc()).limit(
                min(limit, MAX_LIST))
            if status is not None:
                query = query.where(ContainmentRow.status == status)
            if case_id is not None:
                query = query.where(ContainmentRow.case_id == case_id)
            if run_id is not None:
                query = query.where(ContainmentRow.run_id == run_id)
            return [containment_dict(row) for row in session.execute(query).scalars()]

    def get(self, containment_id: int) -> dict[str, Any]:
        with self.db.read() as session:
            row = session.get(ContainmentRow, containment_id)
            if row is None:
                raise NotFoundError(f"no containment {containment_id}")
            return containment_dict(row)

    def rollback(self, actor: str, containment_id: int, now: datetime,
                 reason: str = "") -> dict[str, Any]:
        """Run the undo action; the entry ends ``rolled_back``, or ``rollback_failed`` with
        the reason (tried again later, or by hand). When another entry still in force holds
        the same target through the same connector, the target is left as it is (undoing
        would lift that one's block too) and this entry alone ends."""
        with self.db.session() as session:
            row = session.execute(select(ContainmentRow).where(
                ContainmentRow.id == containment_id).with_for_update()).scalar_one_or_none()
            if row is None:
                raise NotFoundError(f"no containment {containment_id}")
            if row.status not in UNDOABLE:
                raise ConflictError(f"containment {containment_id} is {row.status}")
            sharer = session.execute(select(ContainmentRow.id).where(
                ContainmentRow.id != row.id, ContainmentRow.status == "active",
                ContainmentRow.action == row.action, ContainmentRow.target == row.target,
                ContainmentRow.connector == row.connector)).scalars().first()
            row.status = "rolling_back"
            row.updated_at = now
            undo = (row.undo_action, row.connector, dict(row.undo_inputs))
        error: str | None = None
        if sharer is None:
            try:
                self.caller.call(undo[0], undo[1], undo[2], key=f"rollback:{containment_id}",
                                 timeout_s=ROLLBACK_TIMEOUT_S)
            except WatchkeeperError as failure:
                error = str(failure)
            except Exception as failure:  # a connector's bug must not leave it rolling back
                log.exception("rollback failed", extra={"containment": containment_id})
                error = f"internal error: {type(failure).__name__}: {failure}"
        with self.db.session() as session:
            row = session.execute(select(ContainmentRow).where(
                ContainmentRow.id == containment_id).with_for_update()).scalar_one()
            before = containment_dict(row)
            row.status = "rollback_failed" if error else "rolled_back"
            row.rollback_error = error
            row.updated_at = now
            if error is None:
                row.rolled_back_at = now
                row.rolled_back_by = actor
                row.next_try_at = None
            else:
                row.rollback_attempts += 1
                row.next_try_at = now + min(RETRY_FIRST * 2 ** (row.rollback_attempts - 1),
                                            RETRY_MAX)
            after = containment_dict(row)
            note = reason if sharer is None else (
                f"{reason} (target still held by containment {sharer}: left in place)"
            ).strip()
            self.audit.append(session, actor, "containment.rollback", "containment", row.id,
                              before, {**after, "reason": note})
        if error:
            log.warning("rollback failed", extra={"containment": containment_id,
                                                  "error": error})
        return after

    def expire(self, now: datetime) -> list[dict[str, Any]]:
        """Roll back every entry whose TTL has run out; retry failed ones when their back-off
        is over, and take back rollbacks cut off midway (the process died)."""
        with self.db.read() as session:
            due = session.execute(select(ContainmentRow.id).where(
                ContainmentRow.expires_at <= now,
                or_(ContainmentRow.status == "active",
                    (ContainmentRow.status == "rollback_failed")
                    & ((ContainmentRow.next_try_at.is_(None))
                       | (ContainmentRow.next_try_at <= now)),
                    (ContainmentRow.status == "rolling_back")
                    & (ContainmentRow.updated_at <= now - STALE_ROLLBACK)),
            ).order_by(ContainmentRow.expires_at).limit(MAX_LIST)).scalars().all()
        done = []
        for containment_id in due:
            try:
                done.append(self.rollback(TTL_ACTOR, containment_id, now, "TTL expired"))
            except ConflictError:
                continue  # rolled back meanwhile by someone else
        return done


def _target(called: Called) -> str:
    for key in ("target", "reference"):
        value = called.outputs.get(key)
        if value:
            return str(value)[:500]
    for key in ("ip", "domain", "host", "user", "sender"):
        value = called.inputs.get(key)
        if value:
            return str(value)[:500]
    return called.action.name


def containment_dict(row: ContainmentRow) -> dict[str, Any]:
    return {"id": row.id, "run_id": row.run_id, "case_id": row.case_id, "action": row.action,
            "connector": row.connector, "target": row.target, "inputs": dict(row.inputs),
            "outputs": dict(row.outputs), "before": dict(row.before),
            "undo_action": row.undo_action, "undo_inputs": dict(row.undo_inputs),
            "status": row.status, "created_at": row.created_at, "expires_at": row.expires_at,
            "rolled_back_at": row.rolled_back_at, "rolled_back_by": row.rolled_back_by,
            "rollback_error": row.rollback_error, "rollback_attempts": row.rollback_attempts,
            "next_try_at": row.next_try_at}

"""Append to the audit log inside the caller's transaction; verify the chain end to end.

Appends are serialized by the one-row ``audit_head`` table: PostgreSQL locks it with
``SELECT … FOR UPDATE`` until the caller commits; on SQLite every transaction already holds
the single write lock (``BEGIN IMMEDIATE``). So two appends never see the same head, the
ids have no gaps and the chain never forks. Keep audited transactions short: they queue.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchkeeper.audit.chain import as_stored, entry_hash
from watchkeeper.audit.model import GENESIS_HASH, HEAD_ID, AuditEntry, AuditHead
from watchkeeper.errors import ConflictError, UsageError
from watchkeeper.state.base import utcnow
from watchkeeper.state.db import StateDB

ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
"""``object.verb``, e.g. ``alert.acknowledge``, ``user.create``."""

CHUNK = 1000
"""Entries verified per read transaction, so that a long check never holds the database."""


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One entry as read back."""

    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, row: AuditEntry) -> AuditRecord:
        return cls(
            id=row.id,
            at=row.at,
            actor=row.actor,
            action=row.action,
            object_type=row.object_type,
            object_id=row.object_id,
            before=row.before,
            after=row.after,
            prev_hash=row.prev_hash,
            hash=row.hash,
        )


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What :func:`verify` found. ``first_bad_id`` is the first entry missing or altered."""

    ok: bool
    checked: int
    head_id: int | None
    head_hash: str | None
    first_bad_id: int | None = None
    reason: str | None = None


class AuditLog:
    """The audit log of one state database."""

    def __init__(self, db: StateDB, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock

    def append(
        self,
        session: Session,
        actor: str,
        action: str,
        object_type: str,
        object_id: str | int | None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> AuditRecord:
        """Record a change in ``session``'s transaction: it commits with the change or not at all.

        Call it after making the change, as the last step before commit: it holds the lock
        that orders appends until then, and taking row locks after it invites deadlocks.

        ``before`` and ``after`` are JSON data (datetimes, enums and UUIDs are turned into
        text); never pass secrets: the log is readable by every analyst.
        """
        if not actor:
            raise UsageError("an audit entry needs an actor")
        if not ACTION.fullmatch(action):
            raise UsageError(f"audit action {action!r} is not of the form object.verb")
        head = session.execute(
            select(AuditHead)
            .where(AuditHead.id == HEAD_ID)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if head is None:
            raise ConflictError("the audit head row is missing: run `watchkeeper audit verify`")
        fields: dict[str, Any] = {
            "id": head.last_id + 1,
            "at": self._clock(),
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": None if object_id is None else str(object_id),
            "before": as_stored(before),
            "after": as_stored(after),
            "prev_hash": head.last_hash,
        }
        row = AuditEntry(**fields, hash=entry_hash(**fields))
        session.add(row)
        head.last_id = row.id
        head.last_hash = row.hash
        session.flush()
        return AuditRecord.of(row)

    def entries(
        self,
        *,
        object_type: str | None = None,
        object_id: str | int | None = None,
        actor: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[AuditRecord]:
        """The newest entries first, optionally for one object or actor; page with ``before_id``."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(max(1, min(limit, 1000)))
        if object_type is not None:
            query = query.where(AuditEntry.object_type == object_type)
        if object_id is not None:
            query = query.where(AuditEntry.object_id == str(object_id))
        if actor is not None:
            query = query.where(AuditEntry.actor == actor)
        if before_id is not None:
            query = query.where(AuditEntry.id < before_id)
        with self._db.session() as session:
            return [AuditRecord.of(row) for row in session.execute(query).scalars()]

    def verify(self, *, expect: str | None = None) -> VerifyResult:
        """See :func:`verify`."""
        return verify(self._db, expect=expect)


def verify(db: StateDB, *, expect: str | None = None) -> VerifyResult:
    """Recompute the chain from the first entry and compare it with the head row.

    ``expect`` is a head hash the operator recorded earlier, elsewhere: the chain must still
    contain it, which catches a log rewritten consistently from that point back.
    """
    with db.session() as session:
        head = session.get(AuditHead, HEAD_ID)
        head_id, head_hash = (head.last_id, head.last_hash) if head else (None, None)
    walk = _Walk(head_id, head_hash, expect)
    while not walk.done:
        with db.session() as session:
            rows = _load_chunk(session, walk.prev_id)
        if isinstance(rows, int):
            return walk.fail(rows, "the entry cannot be read (its columns were altered)")
        if not rows:
            break
        failure = walk.check(rows)
        if failure is not None:
            return failure
    if head_id is None or head_hash is None:
        return walk.fail(None, "the audit head row is missing")
    if walk.prev_id < head_id:
        return walk.fail(
            walk.prev_id + 1,
            f"the log ends at entry {walk.prev_id} but the head records entry {head_id}: "
            "entries were removed from the end",
        )
    if walk.prev_hash != head_hash:
        return walk.fail(head_id, "the last entry's hash differs from the one the head records")
    if expect is not None and not walk.found_expected:
        return walk.fail(None, f"the recorded hash {expect} is not in the chain")
    return VerifyResult(ok=True, checked=walk.checked, head_id=head_id, head_hash=head_hash)


def _load_chunk(session: Session, after_id: int) -> Sequence[AuditEntry] | int:
    """The next entries, or the id of the first one that cannot be decoded."""
    query = select(AuditEntry).where(AuditEntry.id > after_id).order_by(AuditEntry.id)
    try:
        return session.execute(query.limit(CHUNK)).scalars().all()
    except (ValueError, TypeError):
        ids = session.execute(
            select(AuditEntry.id).where(AuditEntry.id > after_id).order_by(AuditEntry.id)
        ).scalars()
        for entry_id in ids:
            try:
                session.execute(select(AuditEntry).where(AuditEntry.id == entry_id)).scalar_one()
            except (ValueError, TypeError):
                return int(entry_id)
        raise


class _Walk:
    """The state of a chain walk: the last good entry, and how many were checked."""

    def __init__(self, head_id: int | None, head_hash: str | None, expect: str | None) -> None:
        self.head_id = head_id
        self.head_hash = head_hash
        self.expect = expect
        self.prev_id = 0
        self.prev_hash = GENESIS_HASH
        self.checked = 0
        self.found_expected = False
        self.done = False

    def fail(self, entry_id: int | None, reason: str) -> VerifyResult:
        return VerifyResult(
            ok=False,
            checked=self.checked,
            head_id=self.head_id,
            head_hash=self.head_hash,
            first_bad_id=entry_id,
            reason=reason,
        )

    def check(self, rows: Sequence[AuditEntry]) -> VerifyResult | None:
        for row in rows:
            if self.head_id is not None and row.id > self.head_id:
                self.done = True  # appended after the head was read
                return None
            if row.id != self.prev_id + 1:
                return self.fail(
                    self.prev_id + 1, f"entry {self.prev_id + 1} is missing (deleted)"
                )
            if row.prev_hash != self.prev_hash:
                return self.fail(
                    row.id, "prev_hash does not match the entry before it (removed or inserted)"
                )
            fields = {
                name: getattr(row, name)
                for name in ("id", "at", "actor", "action", "object_type", "object_id")
            }
            if row.hash != entry_hash(
                **fields, before=row.before, after=row.after, prev_hash=row.prev_hash
            ):
                return self.fail(row.id, "the hash does not match the content (edited)")
            self.prev_id, self.prev_hash = row.id, row.hash
            self.found_expected = self.found_expected or row.hash == self.expect
            self.checked += 1
        return None

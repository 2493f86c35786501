"""Putting input aside with its reason, listing it, and sending it through again."""

from __future__ import annotations

import base64
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from watchkeeper.audit.service import AuditLog
from watchkeeper.deadletters.model import DeadLetterRow
from watchkeeper.errors import ConflictError, NotFoundError, UsageError
from watchkeeper.state.db import StateDB
from watchkeeper.state.paging import page

PREVIEW_BYTES = 2048
LOOKUP_CHUNK = 400
Replayer = Callable[[str, str, bytes], int]
"""(source type, origin, raw) → spool sequence number: how a replay re-enters the pipeline."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """One record the pipeline could not parse."""

    origin: str
    source_type: str
    reason: str
    location: str
    spool_seq: int
    raw: bytes


def letter_dict(row: DeadLetterRow, *, full: bool = False) -> dict[str, Any]:
    raw = row.raw if full else row.raw[:PREVIEW_BYTES]
    return {
        "id": row.id,
        "at": row.at,
        "receiver": row.receiver,
        "origin": row.origin,
        "source_type": row.source_type,
        "reason": row.reason,
        "location": row.location,
        "size": len(row.raw),
        "raw": raw.decode("utf-8", "replace"),
        "raw_base64": base64.b64encode(raw).decode() if full else None,
        "replayed_at": row.replayed_at,
        "replayed_by": row.replayed_by,
    }


class DeadLetters:
    """The state-backed dead-letter store; receivers see it as a ``DeadLetterSink``.

    Receivers call :meth:`put` from the event loop, so it only queues (a bounded queue:
    a flood of garbage costs memory up to ``MAX_QUEUED`` letters, the rest are counted
    in ``dropped``); :meth:`flush` writes the queue in one transaction — the pipeline
    calls it between batches, and every read calls it first.
    """

    MAX_QUEUED = 10_000

    def __init__(self, db: StateDB, audit: AuditLog) -> None:
        self.db = db
        self.audit = audit
        self.dropped = 0
        self._queued: deque[DeadLetterRow] = deque()
        self._lock = threading.Lock()

    def put(self, receiver: str, origin: str, reason: str, raw: bytes) -> None:
        row = DeadLetterRow(receiver=receiver[:50], origin=origin[:500], reason=reason[:4000],
                            raw=raw, at=datetime.now(UTC))
        with self._lock:
            if len(self._queued) >= self.MAX_QUEUED:
                self.dropped += 1
                return
            self._queued.append(row)

    def flush(self) -> int:
        with self._lock:
            rows = list(self._queued)
            self._queued.clear()
        if rows:
            with self.db.session() as session:
                session.add_all(rows)
        return len(rows)

    def put_rejected(self, session: Session, rejected: Sequence[Rejected]) -> int:
        """Records of a batch, in the batch's transaction; those already kept (a replayed
        batch) are not kept twice. Returns how many were new."""
        if not rejected:
            return 0
        keys = [(r.spool_seq, r.location) for r in rejected]
        known: set[tuple[int | None, str | None]] = set()
        for start in range(0, len(keys), LOOKUP_CHUNK):
            part = keys[start : start + LOOKUP_CHUNK]
            known.update(
                (seq, location)
                for seq, location in session.execute(
                    select(DeadLetterRow.spool_seq, DeadLetterRow.location).where(
                        tuple_(DeadLetterRow.spool_seq, DeadLetterRow.location).in_(part)
                    )
                )
            )
        fresh = [r for r in rejected if (r.spool_seq, r.location) not in known]
        session.add_all(
            DeadLetterRow(
                receiver="pipeline",
                origin=r.origin[:500],
                source_type=r.source_type[:100],
                reason=r.reason[:4000],
                location=r.location[:200],
                spool_seq=r.spool_seq,
                raw=r.raw,
            )
            for r in fresh
        )
        return len(fresh)

    def list(
        self, limit: int = 50, offset: int = 0, pending_only: bool = False
    ) -> tuple[list[dict[str, Any]], int]:
        if not 1 <= limit <= 1000 or offset < 0:
            raise UsageError("limit must be 1–1000 and offset ≥ 0")
        self.flush()
        query = select(DeadLetterRow)
        if pending_only:
            query = query.where(DeadLetterRow.replayed_at.is_(None))
        with self.db.read() as session:
            rows, total = page(session, query, (DeadLetterRow.id.desc(),), limit, offset)
            return [letter_dict(row) for row in rows], total

    def get(self, letter_id: int) -> dict[str, Any]:
        self.flush()
        with self.db.read() as session:
            return letter_dict(_row(session, letter_id), full=True)

    def replay(
        self, letter_id: int, actor: str, replayer: Replayer, source_type: str | None = None
    ) -> dict[str, Any]:
        """Send the raw input through the pipeline again, as ``source_type`` if given
        (after fixing a wrong type); a record that fails again comes back as a new letter."""
        with self.db.session() as session:
            row = _row(session, letter_id)
            # claim it first, in one statement: two replays at once send it once
            claimed = session.execute(
                update(DeadLetterRow)
                .where(DeadLetterRow.id == letter_id, DeadLetterRow.replayed_at.is_(None))
                .values(replayed_at=datetime.now(UTC), replayed_by=actor)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                raise ConflictError(f"dead letter {letter_id} was already replayed")
            session.refresh(row)
            chosen = source_type or row.source_type or "auto"
            seq = replayer(chosen, f"replay:{letter_id}", row.raw)
            self.audit.append(
                session, actor, "deadletter.replay", "dead_letter", str(letter_id),
                None, {"source_type": chosen, "spool_seq": seq},
            )
            return letter_dict(row)


def _row(session: Session, letter_id: int) -> DeadLetterRow:
    row = session.get(DeadLetterRow, letter_id)
    if row is None:
        raise NotFoundError(f"no dead letter {letter_id}")
    return row

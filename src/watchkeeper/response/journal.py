"""A run's journal in the state database: read once when the run is picked up, each step
written in its own transaction as it happens. Every write renews the worker's lease on the
run, and fails (``LeaseLost``) when the run was cancelled or taken over: two workers never
both act for one run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from watchkeeper.response.interpreter import StepRecord
from watchkeeper.response.run_model import PlaybookRunRow, PlaybookStepRow
from watchkeeper.state.base import utcnow
from watchkeeper.state.db import StateDB


class LeaseLost(Exception):
    """Another worker took the run over, or it was cancelled: this walk must stop."""


@dataclass(frozen=True)
class Lease:
    """The worker's hold on a run, renewed with every step it writes."""

    owner: str
    seconds: float
    clock: Callable[[], datetime]

    def renew(self, session: Session, run_id: int) -> None:
        held = session.execute(
            update(PlaybookRunRow).where(
                PlaybookRunRow.id == run_id, PlaybookRunRow.lease_owner == self.owner,
                PlaybookRunRow.status == "running")
            .values(lease_until=self.clock() + timedelta(seconds=self.seconds))
        ).rowcount  # type: ignore[attr-defined]
        if not held:
            raise LeaseLost(f"run {run_id} is no longer held by {self.owner}")


class DbJournal:
    def __init__(self, db: StateDB, run_id: int, lease: Lease | None = None) -> None:
        self.db = db
        self.run_id = run_id
        self.lease = lease
        with db.read() as session:
            rows = session.execute(select(PlaybookStepRow).where(
                PlaybookStepRow.run_id == run_id)).scalars().all()
            self._records = {row.path: _record(row) for row in rows}
        self.with_record: list[Callable[[Session, StepRecord], None]] = []
        """Writes that belong in the same transaction as a step's record (the audit entry
        and containment record of the action it ran)."""

    def get(self, path: str) -> StepRecord | None:
        return self._records.get(path)

    def put(self, record: StepRecord) -> None:
        with self.db.session() as session:
            self._renew(session)
            write(session, self.run_id, record)
            for hook in self.with_record:
                hook(session, record)
        self._records[record.path] = record

    def started(self, record: StepRecord, action: str, inputs: dict[str, Any]) -> None:
        """An action is about to be called: if the process dies before its answer is
        written, the next pick-up calls it again under the same idempotency key."""
        with self.db.session() as session:
            self._renew(session)
            write(session, self.run_id, record, action=action, inputs=inputs)

    def _renew(self, session: Session) -> None:
        if self.lease is not None:
            self.lease.renew(session, self.run_id)


def write(session: Session, run_id: int, record: StepRecord, *, action: str | None = None,
          inputs: dict[str, Any] | None = None, now: datetime | None = None) -> None:
    row = session.execute(select(PlaybookStepRow).where(
        PlaybookStepRow.run_id == run_id, PlaybookStepRow.path == record.path)
    ).scalar_one_or_none()
    if row is None:
        row = PlaybookStepRow(run_id=run_id, path=record.path, step_id=record.step_id,
                              kind=record.kind)
        session.add(row)
        if now is not None:
            row.started_at = now
    row.status = record.status
    row.outputs = record.outputs
    row.error = record.error
    row.attempts = record.attempts
    row.wake_at = record.wake_at
    if action is not None:
        row.action = action
    if inputs is not None:
        row.inputs = inputs
    row.updated_at = now or utcnow()


def _record(row: PlaybookStepRow) -> StepRecord:
    status: Any = row.status
    return StepRecord(row.path, row.step_id, row.kind, status, dict(row.outputs), row.error,
                      row.attempts, row.wake_at)

"""Playbook runs: started by a trigger or a person, advanced by workers, on the record.

A run pins the version (file hash) of its playbook and is advanced by whichever worker
holds its lease, so two processes never advance one run at once, and a run whose worker
died is taken over when the lease runs out. A run never sits stuck: an error inside an
action, a connector or the interpreter ends it ``failed`` with the reason.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from watchkeeper.errors import ConflictError, NotFoundError, UsageError
from watchkeeper.response.approvals import approval_dict
from watchkeeper.response.containment import containment_dict
from watchkeeper.response.effects import Desks, LiveEffects, RunFacts
from watchkeeper.response.interpreter import Interpreter, Outcome, bind_inputs
from watchkeeper.response.journal import DbJournal, Lease, LeaseLost
from watchkeeper.response.loader import Library, LoadedPlaybook, parse
from watchkeeper.response.model import Playbook, PlaybookStep, walk
from watchkeeper.response.run_model import (
    ApprovalRow,
    ContainmentRow,
    PlaybookRunRow,
    PlaybookStepRow,
    PlaybookVersionRow,
)

log = logging.getLogger(__name__)
ACTIVE = ("queued", "running", "waiting")
FINISHED = ("succeeded", "failed", "rejected", "cancelled")
MAX_LIST = 500
RETRY_AFTER_DB_ERROR = timedelta(seconds=10)


@dataclass(frozen=True)
class Start:
    """What starts a run."""

    playbook: str
    actor: str
    trigger_kind: str
    trigger: dict[str, Any]
    inputs: dict[str, Any]
    alert_id: int | None = None
    case_id: int | None = None
    dedup_key: str | None = None


class RunService:
    def __init__(self, desks: Desks, library: Callable[[], Library], *, lease_s: float = 300,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.desks = desks
        self.db = desks.db
        self.library = library
        self.lease_s = lease_s
        self.clock = clock
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.interpreter = Interpreter(self._resolve)

    def start(self, start: Start) -> dict[str, Any] | None:
        """A queued run; None when a run for ``dedup_key`` exists already."""
        try:
            return self._insert(start)
        except IntegrityError:
            if start.dedup_key is not None and self._taken(start.dedup_key):
                return None
            # another start inserted the same playbook version at the same moment
            return self._insert(start)

    def _taken(self, dedup_key: str) -> bool:
        with self.db.read() as session:
            return session.execute(select(PlaybookRunRow.id).where(
                PlaybookRunRow.dedup_key == dedup_key)).first() is not None

    def _insert(self, start: Start) -> dict[str, Any]:
        loaded = self.library().get(start.playbook)
        inputs = checked_inputs(loaded.playbook, start.inputs)
        now = self.clock()
        called = self._called(loaded)
        with self.db.session() as session:
            for version in (loaded, *called):
                if session.get(PlaybookVersionRow, version.version) is None:
                    session.add(PlaybookVersionRow(version=version.version, name=version.name,
                                                   source=version.source, created_at=now))
                    session.flush()
            row = PlaybookRunRow(
                playbook=loaded.name, version=loaded.version, status="queued",
                trigger_kind=start.trigger_kind, trigger=start.trigger, inputs=inputs,
                started_by=start.actor, alert_id=start.alert_id, case_id=start.case_id,
                dedup_key=start.dedup_key, created_at=now, wake_at=now, outputs={},
                path=[], pinned={c.name: c.version for c in called})
            session.add(row)
            session.flush()
            found = run_dict(row)
            self.desks.audit.append(session, start.actor, "playbook_run.start",
                                    "playbook_run", row.id, None,
                                    {k: found[k] for k in ("playbook", "version",
                                                           "trigger_kind", "alert_id",
                                                           "case_id", "inputs")})
            return found

    def due(self, limit: int = 50) -> list[int]:
        now = self.clock()
        with self.db.read() as session:
            return list(session.execute(
                select(PlaybookRunRow.id).where(
                    PlaybookRunRow.status.in_(ACTIVE), PlaybookRunRow.wake_at <= now,
                    or_(PlaybookRunRow.lease_until.is_(None), PlaybookRunRow.lease_until < now))
                .order_by(PlaybookRunRow.wake_at, PlaybookRunRow.id).limit(limit)).scalars())

    def work(self, limit: int = 50) -> int:
        """Advance every run that is due; how many were advanced."""
        done = 0
        for run_id in self.due(limit):
            if self.advance(run_id) is not None:
                done += 1
        return done

    def advance(self, run_id: int) -> dict[str, Any] | None:
        """Walk the run as far as it goes now; None when another worker holds it."""
        if not self._claim(run_id):
            return None
        with self.db.read() as session:
            row = session.get(PlaybookRunRow, run_id)
            assert row is not None
            facts = RunFacts(row.id, row.playbook, row.started_by, row.alert_id, row.case_id)
            source = session.get(PlaybookVersionRow, row.version)
            assert source is not None
            trigger, inputs, text = dict(row.trigger), dict(row.inputs), source.source
            pinned = {version.name: version.source for version in session.execute(
                select(PlaybookVersionRow).where(PlaybookVersionRow.version.in_(
                    list((row.pinned or {}).values())))).scalars()}
        try:
            playbook = _parsed(text, row.playbook)
            journal = DbJournal(self.db, run_id, Lease(self.owner, self.lease_s, self.clock))
            effects = LiveEffects(facts, self.desks, journal, self.clock)
            outcome = self.interpreter.run(
                playbook, journal, effects, trigger=trigger, inputs=inputs,
                run_info={"id": run_id, "playbook": row.playbook, "dry_run": False},
                resolve=lambda name: _parsed(pinned[name], name) if name in pinned
                else self._resolve(name))
        except LeaseLost:
            log.info("playbook run left to its new holder", extra={"run": run_id})
            return None
        except DBAPIError as error:
            # the state database failed under the walk (locked, restarted): what was done is
            # in the journal; walk again shortly rather than end the run
            log.warning("playbook run paused", extra={"run": run_id, "error": str(error)})
            outcome = Outcome("waiting", wake_at=self.clock() + RETRY_AFTER_DB_ERROR,
                              waiting_for="the state database")
        except Exception as error:  # a run must end, never hang on a bug
            log.exception("playbook run failed", extra={"run": run_id})
            outcome = Outcome("failed", error=f"internal error: {type(error).__name__}: {error}")
        return self._finish(run_id, outcome)

    def cancel(self, actor: str, run_id: int) -> dict[str, Any]:
        with self.db.session() as session:
            row = _run(session, run_id, lock=True)
            if row.status not in ACTIVE:
                raise ConflictError(f"run {run_id} is already {row.status}")
            before = run_dict(row)
            row.status = "cancelled"
            row.finished_at = self.clock()
            row.wake_at = None
            row.lease_owner = row.lease_until = None  # a walk in progress stops at its next step
            session.execute(update(ApprovalRow).where(
                ApprovalRow.run_id == run_id, ApprovalRow.status == "pending").values(
                status="cancelled"))
            after = run_dict(row)
            self.desks.audit.append(session, actor, "playbook_run.cancel", "playbook_run",
                                    run_id, before, after)
            return after

    def get(self, run_id: int) -> dict[str, Any]:
        with self.db.read() as session:
            row = _run(session, run_id)
            steps = session.execute(select(PlaybookStepRow).where(
                PlaybookStepRow.run_id == run_id).order_by(PlaybookStepRow.id)).scalars()
            approvals = session.execute(select(ApprovalRow).where(
                ApprovalRow.run_id == run_id).order_by(ApprovalRow.id)).scalars()
            containments = session.execute(select(ContainmentRow).where(
                ContainmentRow.run_id == run_id).order_by(ContainmentRow.id)).scalars()
            return {**run_dict(row), "steps": [step_dict(s) for s in steps],
                    "approvals": [approval_dict(a) for a in approvals],
                    "containments": [containment_dict(c) for c in containments]}

    def find(self, playbook: str | None = None, status: str | None = None,
             case_id: int | None = None, limit: int = 50, offset: int = 0,
             ) -> tuple[list[dict[str, Any]], int]:
        with self.db.read() as session:
            query = select(PlaybookRunRow)
            if playbook is not None:
                query = query.where(PlaybookRunRow.playbook == playbook)
            if status is not None:
                query = query.where(PlaybookRunRow.status == status)
            if case_id is not None:
                query = query.where(PlaybookRunRow.case_id == case_id)
            total = session.execute(select(func.count()).select_from(query.subquery())
                                    ).scalar_one()
            rows = session.execute(query.order_by(PlaybookRunRow.id.desc())
                                   .limit(min(limit, MAX_LIST)).offset(offset)).scalars()
            return [run_dict(row) for row in rows], total

    def _resolve(self, name: str) -> Playbook:
        return self.library().get(name).playbook

    def _called(self, loaded: LoadedPlaybook) -> list[LoadedPlaybook]:
        """Every playbook ``loaded`` calls, directly or not, as loaded now."""
        found: dict[str, LoadedPlaybook] = {}
        todo = [loaded]
        while todo:
            for step in walk(todo.pop().playbook.steps):
                if isinstance(step, PlaybookStep) and step.playbook not in found \
                        and step.playbook in self.library().playbooks:
                    found[step.playbook] = self.library().get(step.playbook)
                    todo.append(found[step.playbook])
        found.pop(loaded.name, None)
        return list(found.values())

    def _claim(self, run_id: int) -> bool:
        now = self.clock()
        with self.db.session() as session:
            claimed = session.execute(
                update(PlaybookRunRow).where(
                    PlaybookRunRow.id == run_id, PlaybookRunRow.status.in_(ACTIVE),
                    or_(PlaybookRunRow.lease_until.is_(None), PlaybookRunRow.lease_until < now))
                .values(lease_owner=self.owner, lease_until=now + timedelta(seconds=self.lease_s),
                        status="running")).rowcount  # type: ignore[attr-defined]
        return bool(claimed)

    def _finish(self, run_id: int, outcome: Outcome) -> dict[str, Any]:
        now = self.clock()
        with self.db.session() as session:
            row = _run(session, run_id, lock=True)
            if row.status != "running" or row.lease_owner != self.owner:
                return run_dict(row)  # cancelled, or taken over: the holder writes the end
            row.lease_owner = row.lease_until = None
            row.path = outcome.path
            if outcome.status == "waiting":
                row.status, row.wake_at, row.waiting_for = "waiting", outcome.wake_at, \
                    outcome.waiting_for
                return run_dict(row)
            row.status = outcome.status
            row.wake_at = row.waiting_for = None
            row.finished_at = now
            row.outputs = outcome.outputs
            row.error, row.error_step = outcome.error, outcome.error_step
            found = run_dict(row)
            self.desks.audit.append(session, f"playbook:{row.playbook}", "playbook_run.finish",
                                    "playbook_run", run_id, None,
                                    {"status": row.status, "error": row.error,
                                     "error_step": row.error_step, "path": row.path})
            return found


@lru_cache(maxsize=64)
def _parsed(text: str, origin: str) -> Playbook:
    return parse(text, origin)


def checked_inputs(playbook: Playbook, given: dict[str, Any]) -> dict[str, Any]:
    """``given`` with defaults filled in; unknown, missing or mistyped inputs refused."""
    unknown = sorted(set(given) - set(playbook.inputs))
    if unknown:
        raise UsageError(f"unknown input {', '.join(unknown)} "
                         f"(inputs: {', '.join(playbook.inputs) or 'none'})")
    return bind_inputs(playbook, given)


def _run(session: Any, run_id: int, lock: bool = False) -> PlaybookRunRow:
    query = select(PlaybookRunRow).where(PlaybookRunRow.id == run_id)
    row = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"no playbook run {run_id}")
    result: PlaybookRunRow = row
    return result


def run_dict(row: PlaybookRunRow) -> dict[str, Any]:
    return {"id": row.id, "playbook": row.playbook, "version": row.version,
            "status": row.status, "trigger_kind": row.trigger_kind, "trigger": row.trigger,
            "inputs": row.inputs, "started_by": row.started_by, "alert_id": row.alert_id,
            "case_id": row.case_id, "created_at": row.created_at,
            "finished_at": row.finished_at, "wake_at": row.wake_at,
            "waiting_for": row.waiting_for, "outputs": row.outputs, "error": row.error,
            "error_step": row.error_step, "path": list(row.path or []),
            "pinned": dict(row.pinned or {})}


def step_dict(row: PlaybookStepRow) -> dict[str, Any]:
    return {"path": row.path, "step_id": row.step_id, "kind": row.kind, "status": row.status,
            "action": row.action, "inputs": row.inputs, "outputs": row.outputs,
            "error": row.error, "attempts": row.attempts, "wake_at": row.wake_at,
            "started_at": row.started_at, "updated_at": row.updated_at}


__all__ = ["LoadedPlaybook", "RunService", "Start", "checked_inputs", "run_dict"]

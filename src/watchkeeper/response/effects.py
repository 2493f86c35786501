"""Where a live run touches the world: actions through their connectors, approvals asked of
people, cases and tasks opened, notifications sent. Each effect is on the audit record
under the actor ``playbook:<name>``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from watchkeeper.audit.service import AuditLog
from watchkeeper.auth.roles import parse_role
from watchkeeper.cases.model import CaseAlertRow
from watchkeeper.cases.service import CaseService, NewCase
from watchkeeper.errors import UsageError
from watchkeeper.notifications.model import NotificationRow
from watchkeeper.response.actions.base import ActionKind
from watchkeeper.response.approvals import ApprovalDesk, Asker
from watchkeeper.response.calls import Called, Caller
from watchkeeper.response.containment import Ledger
from watchkeeper.response.interpreter import Decided, Pending, StepRecord
from watchkeeper.response.journal import DbJournal
from watchkeeper.response.model import (
    ActionStep,
    ApprovalStep,
    CaseStep,
    NotifyStep,
    SetCaseStep,
    TaskStep,
)
from watchkeeper.response.run_model import ContainmentRow, PlaybookRunRow
from watchkeeper.state.db import StateDB


@dataclass
class RunFacts:
    """What effects need to know of the run they act for."""

    run_id: int
    playbook: str
    started_by: str
    alert_id: int | None
    case_id: int | None


@dataclass
class Desks:
    """The services a live run acts through."""

    db: StateDB
    audit: AuditLog
    caller: Caller
    approvals: ApprovalDesk
    ledger: Ledger
    cases: CaseService


class LiveEffects:
    def __init__(self, facts: RunFacts, desks: Desks, journal: DbJournal,
                 clock: Callable[[], datetime]) -> None:
        self.facts = facts
        self.desks = desks
        self.journal = journal
        self.clock = clock
        self.actor = f"playbook:{facts.playbook}"
        self._acted: dict[str, tuple[ActionStep, Called, int, datetime]] = {}
        journal.with_record.append(self._record_action)

    def now(self) -> datetime:
        return self.clock()

    def act(self, step: ActionStep, path: str, inputs: dict[str, Any],
            attempt: int) -> dict[str, Any]:
        key = f"run:{self.facts.run_id}:{path}"
        self.journal.started(StepRecord(path, step.id, step.kind, "started", attempts=attempt),
                             step.action, inputs)
        called = self.desks.caller.call(step.action, step.connector, inputs, key=key,
                                        timeout_s=step.timeout, ttl_s=step.ttl)
        self._acted[path] = (step, called, attempt, self.clock())
        return called.outputs

    def _record_action(self, session: Session, record: StepRecord) -> None:
        """With the step's record, in its transaction: the audit entry of the action it
        ran and, for containment, what undoes it."""
        acted = self._acted.pop(record.path, None)
        if acted is None or record.status != "done":
            return
        step, called, attempt, now = acted
        key = f"run:{self.facts.run_id}:{record.path}"
        if called.action.kind is ActionKind.CONTAINMENT and called.action.undo:
            self.desks.ledger.record(
                session, key=key, run_id=self.facts.run_id, case_id=self.facts.case_id,
                playbook=self.facts.playbook, connector=step.connector, called=called,
                ttl_s=step.ttl, now=now)
        self.desks.audit.append(session, self.actor, "playbook_run.act", "playbook_run",
                                self.facts.run_id, None,
                                {"step": record.path, "action": step.action,
                                 "connector": step.connector, "inputs": called.inputs,
                                 "outputs": called.outputs, "attempt": attempt})

    def approval(self, step: ApprovalStep, path: str, prompt: str) -> Pending | Decided:
        asker = Asker(self.facts.run_id, self.facts.playbook, self.facts.started_by,
                      self.facts.case_id)
        with self.desks.db.session() as session:
            return self.desks.approvals.ask(session, asker, path, step.approval, prompt,
                                            self.clock())

    def case(self, step: CaseStep, path: str, spec: dict[str, Any]) -> dict[str, Any]:
        if self.facts.case_id is not None:
            return {"case_id": self.facts.case_id, "created": False}
        alert_ids = _alert_ids(spec.get("alerts"), self.facts.alert_id)
        with self.desks.db.read() as session:
            held = session.execute(select(CaseAlertRow.case_id).where(
                CaseAlertRow.alert_id.in_(alert_ids))).scalars().first() if alert_ids else None
        if held is not None:
            self._set_case(held)
            return {"case_id": held, "created": False}
        new = NewCase(title=str(spec["title"]), severity=str(spec.get("severity", "medium")),
                      description=str(spec.get("description", "")),
                      tags=tuple(str(t) for t in spec.get("tags", [])))
        case = self.desks.cases.create(self.actor, new, alert_ids=tuple(alert_ids),
                                       template=spec.get("template"))
        self._set_case(case["id"])
        return {"case_id": case["id"], "created": True}

    def task(self, step: TaskStep, path: str, spec: dict[str, Any]) -> dict[str, Any]:
        case_id = self._need_case(path)
        due = spec.get("due_in")
        task = self.desks.cases.add_task(
            self.actor, case_id, str(spec["title"]), assignee=spec.get("assignee"),
            due_at=None if due is None else self.clock() + timedelta(seconds=float(due)),
            role=spec.get("role"))
        return {"task_id": task["id"], "case_id": case_id}

    def set_case(self, step: SetCaseStep, path: str, changes: dict[str, Any]) -> dict[str, Any]:
        case_id = self._need_case(path)
        case = self.desks.cases.update(self.actor, case_id, dict(changes))
        return {"case_id": case_id, "status": case["status"]}

    def notify(self, step: NotifyStep, path: str, spec: dict[str, Any]) -> dict[str, Any]:
        role = parse_role(str(spec["role"])).value
        with self.desks.db.session() as session:
            row = NotificationRow(to_role=role, case_id=self.facts.case_id,
                                  kind=f"playbook:{self.facts.run_id}:{path}"[:100],
                                  message=str(spec["message"]), created_at=self.clock())
            session.add(row)
            session.flush()
            self.desks.audit.append(session, self.actor, "notification.send", "notification",
                                    row.id, None, {"to_role": role, "run_id": self.facts.run_id})
            return {"notification_id": row.id, "role": role}

    def _need_case(self, path: str) -> int:
        if self.facts.case_id is None:
            raise UsageError(f"{path}: this run has no case yet (open one with a case step)")
        return self.facts.case_id

    def _set_case(self, case_id: int) -> None:
        self.facts.case_id = case_id
        with self.desks.db.session() as session:
            session.execute(update(PlaybookRunRow).where(
                PlaybookRunRow.id == self.facts.run_id).values(case_id=case_id))
            # containment taken before the case existed belongs to it too
            session.execute(update(ContainmentRow).where(
                ContainmentRow.run_id == self.facts.run_id, ContainmentRow.case_id.is_(None))
                .values(case_id=case_id))


def _alert_ids(value: Any, default: int | None) -> list[int]:
    if value is None:
        return [] if default is None else [default]
    items = value if isinstance(value, list) else [value]
    try:
        return [int(item) for item in items]
    except (TypeError, ValueError):
        raise UsageError(f"case alerts must be alert ids, not {value!r}") from None

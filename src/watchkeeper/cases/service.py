"""Cases: opened from alerts (or by hand), worked through a status workflow with tasks and
comments, and read back as one timeline.

Every change is written to the audit log in the same transaction, so the audit log is
also where the timeline finds status changes and who made them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchkeeper.alerts.model import AlertEventRow, AlertRow
from watchkeeper.alerts.service import alert_dict
from watchkeeper.audit.model import AuditEntry
from watchkeeper.audit.service import AuditLog
from watchkeeper.auth.model import UserRow
from watchkeeper.cases.model import CaseAlertRow, CaseCommentRow, CaseRow, CaseTaskRow
from watchkeeper.cases.sla import SlaPolicy, sla_states
from watchkeeper.cases.templates import CaseTemplate, TemplateBook, load_templates
from watchkeeper.config import CaseSettings
from watchkeeper.errors import ConflictError, NotFoundError, UsageError
from watchkeeper.state.db import StateDB
from watchkeeper.state.paging import page

STATUSES = ("new", "in_progress", "contained", "resolved", "closed")
OPEN_STATUSES = STATUSES[:3]
"""A case still being worked: not resolved, not closed."""
NEXT: dict[str, tuple[str, ...]] = {
    "new": ("in_progress", "contained", "resolved"),
    "in_progress": ("contained", "resolved"),
    "contained": ("in_progress", "resolved"),
    "resolved": ("closed", "in_progress"),
    "closed": ("in_progress",),
}
"""The workflow: where a case may go from each status (reopening goes to in_progress)."""
SEVERITIES = ("low", "medium", "high", "critical")
PRIORITY_OF = {"critical": "P1", "high": "P2", "medium": "P3", "low": "P4"}
PRIORITIES = ("P1", "P2", "P3", "P4")
TLPS = ("clear", "green", "amber", "amber+strict", "red")
TASK_STATUSES = ("open", "done")
SEVERITY_OF_LEVEL = {"informational": "low", "low": "low", "medium": "medium",
                     "high": "high", "critical": "critical"}
MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9_.-]{1,64})")
MAX_LIMIT = 500
TIMELINE_EVENTS = 200
"""Matching events a case's timeline lists at most (the earliest): the rest are in search."""


@dataclass(frozen=True, slots=True)
class NewCase:
    title: str
    severity: str = "medium"
    priority: str | None = None
    description: str = ""
    assignee: str | None = None
    team: str | None = None
    tags: tuple[str, ...] = ()
    tlp: str = "amber"

    def check(self) -> None:
        if not self.title.strip():
            raise UsageError("a case needs a title")
        _known("severity", self.severity, SEVERITIES)
        if self.priority is not None:
            _known("priority", self.priority, PRIORITIES)
        _known("TLP", self.tlp, TLPS)


def case_dict(row: CaseRow, alert_ids: list[int] | None = None) -> dict[str, Any]:
    found = {
        "id": row.id, "title": row.title, "description": row.description,
        "severity": row.severity, "priority": row.priority, "status": row.status,
        "assignee": row.assignee, "team": row.team, "tags": list(row.tags), "tlp": row.tlp,
        "created_by": row.created_by, "created_at": row.created_at,
        "updated_at": row.updated_at, "contained_at": row.contained_at,
        "resolved_at": row.resolved_at, "closed_at": row.closed_at,
        "acknowledged_at": row.acknowledged_at, "template": row.template,
    }
    if alert_ids is not None:
        found["alert_ids"] = alert_ids
    return found


def with_template(new: NewCase, template: CaseTemplate, keep_severity: bool) -> NewCase:
    """``new`` filled from ``template``: its severity (unless ``keep_severity``), its tags
    added, its description when ``new`` has none."""
    return NewCase(
        title=new.title, severity=new.severity if keep_severity else template.severity,
        priority=new.priority, description=new.description or template.description,
        assignee=new.assignee, team=new.team,
        tags=tuple(dict.fromkeys((*template.tags, *new.tags))), tlp=new.tlp)


class CaseService:
    def __init__(self, db: StateDB, audit: AuditLog, templates: TemplateBook | None = None,
                 sla: SlaPolicy | None = None) -> None:
        self.db = db
        self.audit = audit
        self.templates = templates if templates is not None else load_templates()
        self.sla = sla if sla is not None else SlaPolicy.from_settings(CaseSettings())
        self.link_hooks: list[Callable[[Session, int], None]] = []
        self.timeline_hooks: list[Callable[[Session, int], list[dict[str, Any]]]] = []
        """More of a case's story, from capabilities built on cases (playbook runs, the
        containment they took): each gives items of ``at``, ``kind``, ``who``, ``text``."""
        """Called with the session and the case id after alerts join a case, in the same
        transaction (observables are refreshed this way)."""

    def with_sla(self, case: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
        """``case`` with its SLA states at ``now`` (default: the current time)."""
        states = sla_states(case, self.sla, now or datetime.now(UTC))
        return {**case, "sla": [state.as_dict() for state in states]}

    # reading -------------------------------------------------------------------------------

    def find(self, status: tuple[str, ...] = (), assignee: str | None = None,
             limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        for value in status:
            _known("status", value, STATUSES)
        if not 1 <= limit <= MAX_LIMIT or offset < 0:
            raise UsageError(f"limit must be 1–{MAX_LIMIT} and offset ≥ 0")
        query = select(CaseRow)
        if status:
            query = query.where(CaseRow.status.in_(status))
        if assignee is not None:
            query = query.where(CaseRow.assignee == assignee)
        with self.db.read() as session:
            rows, total = page(session, query, (CaseRow.updated_at.desc(), CaseRow.id.desc()),
                               limit, offset)
            return [self.with_sla(case_dict(row)) for row in rows], total

    def get(self, case_id: int) -> dict[str, Any]:
        with self.db.read() as session:
            row = _case(session, case_id)
            tasks = session.execute(select(CaseTaskRow).where(CaseTaskRow.case_id == case_id)
                                    .order_by(CaseTaskRow.id)).scalars().all()
            comments = session.execute(
                select(CaseCommentRow).where(CaseCommentRow.case_id == case_id)
                .order_by(CaseCommentRow.id)).scalars().all()
            alerts = _alerts(session, case_id)
            return {
                **self.with_sla(case_dict(row, [a.id for a in alerts])),
                "review": row.review,
                "alerts": [alert_dict(a) for a in alerts],
                "tasks": [_task_dict(t) for t in tasks],
                "comments": [_comment_dict(c) for c in comments],
            }

    def case_of_alert(self, alert_id: int) -> int | None:
        with self.db.read() as session:
            link = session.get(CaseAlertRow, alert_id)
            return link.case_id if link else None

    def timeline(self, case_id: int) -> list[dict[str, Any]]:
        """Alerts (at their first event), their matching events (the first
        :data:`TIMELINE_EVENTS`), alerts added, tasks, comments and every recorded change
        of the case, oldest first."""
        items: list[dict[str, Any]] = []
        with self.db.read() as session:
            row = _case(session, case_id)
            items.append(_item(row.created_at, "created", row.created_by, row.title))
            for alert in _alerts(session, case_id):
                items.append(_item(alert.first_seen, "alert", None,
                                   f"{alert.rule_title} ({alert.level}) on "
                                   f"{alert.entities.get('host') or alert.host or '?'}"))
            matched = session.execute(
                select(AlertEventRow.event_id, AlertEventRow.timestamp, AlertRow.rule_title)
                .join(AlertRow, AlertRow.id == AlertEventRow.alert_id)
                .join(CaseAlertRow, CaseAlertRow.alert_id == AlertRow.id)
                .where(CaseAlertRow.case_id == case_id, AlertEventRow.timestamp.is_not(None))
                .order_by(AlertEventRow.timestamp, AlertEventRow.id).limit(TIMELINE_EVENTS))
            for event_id, at, rule_title in matched:
                if at is not None:  # the query keeps only timed events; this tells mypy
                    items.append(_item(at, "event", None,
                                       f"event {event_id} matched {rule_title}"))
            for task in session.execute(
                    select(CaseTaskRow).where(CaseTaskRow.case_id == case_id)).scalars():
                if task.done_at is not None:
                    items.append(_item(task.done_at, "task.done", None, task.title))
            for comment in session.execute(
                    select(CaseCommentRow).where(CaseCommentRow.case_id == case_id)).scalars():
                items.append(_item(comment.created_at, "comment", comment.author, comment.body))
            for entry in session.execute(
                    select(AuditEntry).where(AuditEntry.object_type == "case",
                                             AuditEntry.object_id == str(case_id),
                                             AuditEntry.action != "case.comment")
                    .order_by(AuditEntry.id)).scalars():
                if entry.action == "case.create":
                    continue
                items.append(_item(entry.at, entry.action, entry.actor, _change_text(entry)))
            for hook in self.timeline_hooks:
                items.extend(hook(session, case_id))
        return sorted(items, key=lambda item: item["at"])

    # changing ------------------------------------------------------------------------------

    def create(self, actor: str, new: NewCase, alert_ids: tuple[int, ...] = (),
               template: str | None = None, keep_severity: bool = True) -> dict[str, Any]:
        """A new case; with a ``template``, its severity (unless ``keep_severity``), tags and
        tasks, each task due its SLA hours after now."""
        found = None if template is None else self.templates.get(template)
        if found is not None:
            new = with_template(new, found, keep_severity)
        new.check()
        now = datetime.now(UTC)
        with self.db.session() as session:
            row = CaseRow(
                title=new.title.strip(), description=new.description, severity=new.severity,
                priority=new.priority or PRIORITY_OF[new.severity], status="new",
                assignee=new.assignee, team=new.team, tags=list(new.tags), tlp=new.tlp,
                created_by=actor, created_at=now, updated_at=now, template=template)
            session.add(row)
            session.flush()
            self._link(session, row.id, alert_ids, actor)
            tasks = [CaseTaskRow(case_id=row.id, title=task.title, role=task.role,
                                 due_at=now + timedelta(hours=task.sla_hours), status="open",
                                 created_by=actor, created_at=now)
                     for task in (found.tasks if found is not None else ())]
            session.add_all(tasks)
            session.flush()
            after = case_dict(row, list(alert_ids))
            self.audit.append(session, actor, "case.create", "case", row.id, None,
                              {**_audited(after), "template": template})
            for task_row in tasks:
                self.audit.append(session, actor, "case.add_task", "case", row.id, None,
                                  _task_dict(task_row))
            return after

    def promote(self, actor: str, alert_id: int, template: str | None = None) -> dict[str, Any]:
        """A new case from one alert: its rule's title, its level as severity; with a
        ``template``, the template's severity unless the alert's is higher."""
        with self.db.read() as session:
            alert = session.get(AlertRow, alert_id)
            if alert is None:
                raise NotFoundError(f"no alert {alert_id}")
            host = alert.entities.get("host") or alert.host
            title = f"{alert.rule_title} on {host}" if host else alert.rule_title
            severity = SEVERITY_OF_LEVEL.get(alert.level, "medium")
        if template is not None:
            wanted = self.templates.get(template).severity
            keep = SEVERITIES.index(severity) > SEVERITIES.index(wanted)
            return self.create(actor, NewCase(title=title, severity=severity), (alert_id,),
                               template, keep_severity=keep)
        return self.create(actor, NewCase(title=title, severity=severity), (alert_id,))

    def add_alerts(self, actor: str, case_id: int, alert_ids: tuple[int, ...]) -> dict[str, Any]:
        """Merge alerts into an existing case."""
        if not alert_ids:
            raise UsageError("give at least one alert")
        with self.db.session() as session:
            row = _case(session, case_id)
            self._link(session, case_id, alert_ids, actor)
            row.updated_at = datetime.now(UTC)
            self.audit.append(session, actor, "case.add_alerts", "case", case_id, None,
                              {"alert_ids": list(alert_ids)})
            return case_dict(row, [a.id for a in _alerts(session, case_id)])

    def update(self, actor: str, case_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        """Change status (along the workflow), severity, priority, assignee, team, tags,
        TLP, title or description."""
        unknown = set(changes) - {"status", "severity", "priority", "assignee", "team", "tags",
                                  "tlp", "title", "description"}
        if unknown:
            raise UsageError(f"cannot change {', '.join(sorted(unknown))}")
        with self.db.session() as session:
            row = _case(session, case_id)
            before = _audited(case_dict(row))
            now = datetime.now(UTC)
            if "status" in changes and changes["status"] != row.status:
                status = _known("status", changes["status"], STATUSES)
                if status not in NEXT[row.status]:
                    raise ConflictError(
                        f"case {case_id} is {row.status}: it may go to "
                        f"{', '.join(NEXT[row.status])}, not {status}")
                if row.status == "new" and row.acknowledged_at is None:
                    row.acknowledged_at = now
                row.status = status
                if status == "contained" and row.contained_at is None:
                    row.contained_at = now
                if status == "resolved":
                    row.resolved_at = now
                if status == "closed":
                    row.closed_at = now
                if status == "in_progress":  # reopened: neither resolved nor closed now
                    row.resolved_at = row.closed_at = None
            for key in ("severity", "priority", "tlp"):
                if key in changes:
                    allowed = {"severity": SEVERITIES, "priority": PRIORITIES, "tlp": TLPS}[key]
                    label = "TLP" if key == "tlp" else key
                    setattr(row, key, _known(label, changes[key], allowed))
            for key in ("assignee", "team", "title", "description"):
                if key in changes:
                    setattr(row, key, changes[key])
            if "tags" in changes:
                row.tags = [str(tag) for tag in changes["tags"]]
            row.updated_at = now
            session.flush()
            after = _audited(case_dict(row))
            self.audit.append(session, actor, "case.update", "case", case_id, before, after)
            return case_dict(row, [a.id for a in _alerts(session, case_id)])

    def add_task(self, actor: str, case_id: int, title: str, assignee: str | None = None,
                 due_at: datetime | None = None, role: str | None = None) -> dict[str, Any]:
        if not title.strip():
            raise UsageError("a task needs a title")
        with self.db.session() as session:
            row = _case(session, case_id)
            task = CaseTaskRow(case_id=case_id, title=title.strip(), assignee=assignee,
                               role=role, due_at=due_at, status="open", created_by=actor,
                               created_at=datetime.now(UTC))
            session.add(task)
            row.updated_at = datetime.now(UTC)
            session.flush()
            found = _task_dict(task)
            self.audit.append(session, actor, "case.add_task", "case", case_id, None, found)
            return found

    def set_task(self, actor: str, case_id: int, task_id: int, status: str) -> dict[str, Any]:
        _known("task status", status, TASK_STATUSES)
        with self.db.session() as session:
            task = session.get(CaseTaskRow, task_id)
            if task is None or task.case_id != case_id:
                raise NotFoundError(f"no task {task_id} in case {case_id}")
            before = _task_dict(task)
            task.status = status
            task.done_at = datetime.now(UTC) if status == "done" else None
            session.flush()
            after = _task_dict(task)
            self.audit.append(session, actor, "case.set_task", "case", case_id, before, after)
            return after

    def comment(self, actor: str, case_id: int, body: str,
                parent_id: int | None = None) -> dict[str, Any]:
        if not body.strip():
            raise UsageError("a comment needs a text")
        with self.db.session() as session:
            row = _case(session, case_id)
            if parent_id is not None:
                parent = session.get(CaseCommentRow, parent_id)
                if parent is None or parent.case_id != case_id:
                    raise NotFoundError(f"no comment {parent_id} in case {case_id}")
            named = {name.casefold() for name in MENTION.findall(body)}
            known = session.execute(
                select(UserRow.username).where(UserRow.username_key.in_(named))
            ).scalars().all() if named else []
            comment = CaseCommentRow(case_id=case_id, parent_id=parent_id, author=actor,
                                     body=body, mentions=sorted(known),
                                     created_at=datetime.now(UTC))
            session.add(comment)
            row.updated_at = datetime.now(UTC)
            session.flush()
            found = _comment_dict(comment)
            self.audit.append(session, actor, "case.comment", "case", case_id, None,
                              {"comment_id": comment.id, "mentions": found["mentions"]})
            return found

    def _link(self, session: Session, case_id: int, alert_ids: tuple[int, ...],
              actor: str) -> None:
        for alert_id in dict.fromkeys(alert_ids):
            if session.get(AlertRow, alert_id) is None:
                raise NotFoundError(f"no alert {alert_id}")
            held = session.get(CaseAlertRow, alert_id)
            if held is not None:
                raise ConflictError(f"alert {alert_id} is in case {held.case_id} already")
            session.add(CaseAlertRow(alert_id=alert_id, case_id=case_id, added_by=actor,
                                     added_at=datetime.now(UTC)))
        session.flush()
        if alert_ids:
            for hook in self.link_hooks:
                hook(session, case_id)


def _known(what: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise UsageError(f"unknown {what} {value!r} (known: {', '.join(allowed)})")
    return value


def _case(session: Session, case_id: int) -> CaseRow:
    row = session.get(CaseRow, case_id)
    if row is None:
        raise NotFoundError(f"no case {case_id}")
    return row


def _alerts(session: Session, case_id: int) -> list[AlertRow]:
    return list(session.execute(
        select(AlertRow).join(CaseAlertRow, CaseAlertRow.alert_id == AlertRow.id)
        .where(CaseAlertRow.case_id == case_id).order_by(AlertRow.first_seen, AlertRow.id)
    ).scalars())


def _task_dict(task: CaseTaskRow) -> dict[str, Any]:
    return {"id": task.id, "case_id": task.case_id, "title": task.title,
            "assignee": task.assignee, "role": task.role, "due_at": task.due_at,
            "status": task.status,
            "created_by": task.created_by, "created_at": task.created_at,
            "done_at": task.done_at}


def _comment_dict(comment: CaseCommentRow) -> dict[str, Any]:
    return {"id": comment.id, "case_id": comment.case_id, "parent_id": comment.parent_id,
            "author": comment.author, "body": comment.body,
            "mentions": list(comment.mentions), "created_at": comment.created_at}


_AUDITED = ("title", "severity", "priority", "status", "assignee", "team", "tags", "tlp")


def _audited(case: dict[str, Any]) -> dict[str, Any]:
    return {key: case[key] for key in _AUDITED}


def _item(at: datetime, kind: str, who: str | None, text: str) -> dict[str, Any]:
    return {"at": at, "kind": kind, "who": who, "text": text}


def _change_text(entry: AuditEntry) -> str:
    before, after = entry.before or {}, entry.after or {}
    if entry.action == "case.update":
        changed = [f"{key}: {before.get(key)} → {after.get(key)}"
                   for key in after if before.get(key) != after.get(key)]
        return "; ".join(changed) or "no change"
    if entry.action == "case.add_alerts":
        return "alerts " + ", ".join(str(a) for a in after.get("alert_ids", []))
    if entry.action in ("case.add_task", "case.set_task"):
        return f"{after.get('title')} ({after.get('status')})"
    return entry.action

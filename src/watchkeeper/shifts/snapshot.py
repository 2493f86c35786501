"""What a handover says, gathered from the state database as JSON-ready data.

The snapshot keeps one key per section. ``incidents`` (open cases), ``tasks`` (pending
playbook approvals, then open case tasks) and ``containment`` (blocks, quarantines and
disabled accounts in force) are ``{"items": [...], "source": ...}``: items are dicts with
at least ``title``, ``source`` names what they come from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from watchkeeper.alerts.model import AlertRow
from watchkeeper.audit.model import AuditEntry
from watchkeeper.cases.model import CaseRow, CaseTaskRow
from watchkeeper.cases.service import OPEN_STATUSES, case_dict
from watchkeeper.cases.sla import AT_RISK, BREACHED, SlaPolicy, sla_states
from watchkeeper.response.run_model import ApprovalRow, ContainmentRow

SNAPSHOT_VERSION = 1
NOTABLE_LEVELS = ("critical", "high")
MAX_NOTABLE = 100
"""High and critical alerts listed one by one; the count says if there were more."""
CHANGE_ACTIONS = ("rule.update", "exception.create", "exception.delete", "roster.update")
MAX_CHANGES = 200
OPEN_CASES = OPEN_STATUSES
SEVERITY_RANK = case({"critical": 0, "high": 1, "medium": 2, "low": 3},
                     value=CaseRow.severity, else_=4)
"""Cases listed worst first."""


def gather(session: Session, start: datetime, end: datetime,
           sla: SlaPolicy | None = None) -> dict[str, Any]:
    """Every section of a handover covering ``[start, end)``; with ``sla``, the open cases
    whose SLAs are breached or about to be at ``end``."""
    return {
        "version": SNAPSHOT_VERSION,
        "alerts": _alerts(session, start, end),
        "changes": notable_changes(session, start, end),
        "incidents": {"items": _open_cases(session), "source": "cases"},
        "tasks": {"items": _pending_approvals(session) + _open_tasks(session),
                  "source": "approvals and cases"},
        "containment": {"items": _containment(session), "source": "playbooks"},
        "slas": {"items": _urgent_slas(session, sla, end) if sla else [], "source": "cases"},
    }


def _urgent_slas(session: Session, sla: SlaPolicy, now: datetime) -> list[dict[str, Any]]:
    found = []
    for row in session.execute(select(CaseRow).where(CaseRow.status.in_(OPEN_CASES))
                               .order_by(CaseRow.id)).scalars():
        for state in sla_states(case_dict(row), sla, now):
            if state.state in (BREACHED, AT_RISK):
                word = "breached" if state.state == BREACHED else "due soon"
                found.append({
                    "case_id": row.id, "kind": state.kind, "state": state.state,
                    "due_at": state.due_at,
                    "title": f"case {row.id} [{row.severity}] {row.title}: time to "
                             f"{state.kind} {word} ({state.due_at:%Y-%m-%d %H:%M} UTC)"})
    return sorted(found, key=lambda item: (item["due_at"], item["case_id"]))[:MAX_NOTABLE]


def _open_cases(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(CaseRow).where(CaseRow.status.in_(OPEN_CASES))
        .order_by(SEVERITY_RANK, CaseRow.id).limit(MAX_NOTABLE)
    ).scalars()
    return [
        {"id": r.id, "title": f"case {r.id} [{r.severity}, {r.status.replace('_', ' ')}] "
                              f"{r.title}" + (f" (assigned to {r.assignee})" if r.assignee else ""),
         "severity": r.severity, "status": r.status, "assignee": r.assignee}
        for r in rows
    ]


def _pending_approvals(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(ApprovalRow).where(ApprovalRow.status == "pending")
        .order_by(ApprovalRow.expires_at, ApprovalRow.id).limit(MAX_NOTABLE)).scalars()
    return [
        {"approval_id": a.id, "run_id": a.run_id,
         "title": f"approval {a.id} for playbook {a.playbook} (run {a.run_id}): {a.prompt} "
                  f"— for {', '.join([*a.roles, *a.users])}"
                  f"{' (four eyes)' if a.required > 1 else ''}, "
                  f"due {a.expires_at:%Y-%m-%d %H:%M} UTC"}
        for a in rows
    ]


def _containment(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(ContainmentRow).where(ContainmentRow.status.in_(("active", "rollback_failed")))
        .order_by(ContainmentRow.id).limit(MAX_NOTABLE)).scalars()
    return [
        {"containment_id": c.id, "case_id": c.case_id,
         "title": f"{c.action} {c.target}"
                  + (f" (case {c.case_id})" if c.case_id else "")
                  + (f", rolled back automatically at {c.expires_at:%Y-%m-%d %H:%M} UTC"
                     if c.expires_at and c.status == "active" else "")
                  + (f", ROLLBACK FAILED: {c.rollback_error}"
                     if c.status == "rollback_failed" else "")}
        for c in rows
    ]


def _open_tasks(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(CaseTaskRow).join(CaseRow, CaseRow.id == CaseTaskRow.case_id)
        .where(CaseTaskRow.status == "open", CaseRow.status.in_(OPEN_CASES))
        .order_by(CaseTaskRow.due_at, CaseTaskRow.id).limit(MAX_NOTABLE)
    ).scalars()
    return [
        {"id": t.id, "case_id": t.case_id,
         "title": f"case {t.case_id}: {t.title}"
                  + (f" ({t.assignee})" if t.assignee else "")
                  + (f", due {t.due_at:%Y-%m-%d %H:%M} UTC" if t.due_at else "")}
        for t in rows
    ]


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


def notable_changes(session: Session, start: datetime, end: datetime) -> list[dict[str, Any]]:
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

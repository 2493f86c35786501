"""Approvals: a run asks, the people it names decide, every decision goes on the record.

An approval is asked once per step of a run (a unique key holds it), with a notification
to each approver role. Who may decide: a holder of one of its roles, an admin, or a user
it names; with four eyes, two different people, neither the one who started the run. A
rejection decides at once. Nobody deciding by the deadline gives the step's default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from watchkeeper.audit.service import AuditLog
from watchkeeper.auth.principal import Principal
from watchkeeper.auth.roles import Role
from watchkeeper.errors import ConflictError, NotFoundError, PermissionDenied, UsageError
from watchkeeper.notifications.model import NotificationRow
from watchkeeper.response.interpreter import Decided, Pending
from watchkeeper.response.model import Approval
from watchkeeper.response.run_model import ApprovalDecisionRow, ApprovalRow, PlaybookRunRow
from watchkeeper.state.db import StateDB

DECISIONS = ("approve", "reject")
MAX_LIST = 500


@dataclass(frozen=True)
class Asker:
    """The run asking."""

    run_id: int
    playbook: str
    started_by: str
    case_id: int | None


class ApprovalDesk:
    def __init__(self, db: StateDB, audit: AuditLog) -> None:
        self.db = db
        self.audit = audit

    def ask(self, session: Session, asker: Asker, path: str, spec: Approval, prompt: str,
            now: datetime) -> Pending | Decided:
        """Where the approval of ``path`` stands; asked (and notified) on the first call."""
        row = session.execute(select(ApprovalRow).where(
            ApprovalRow.run_id == asker.run_id, ApprovalRow.path == path)
            .with_for_update()).scalar_one_or_none()
        if row is None:
            row = ApprovalRow(
                run_id=asker.run_id, path=path, playbook=asker.playbook, prompt=prompt,
                roles=list(spec.approvers.roles), users=list(spec.approvers.users),
                required=2 if spec.four_eyes else 1, requested_by=asker.started_by,
                status="pending", default=spec.default, created_at=now,
                expires_at=now + timedelta(seconds=spec.timeout))
            session.add(row)
            session.flush()
            for role in row.roles:
                session.add(NotificationRow(
                    to_role=role, case_id=asker.case_id, kind=f"approval:{row.id}:{role}",
                    message=f"Approval wanted for playbook {asker.playbook} "
                            f"(run {asker.run_id}): {prompt}", created_at=now))
            self.audit.append(session, f"playbook:{asker.playbook}", "approval.request",
                              "approval", row.id, None, approval_dict(row))
        if row.status == "pending" and now >= row.expires_at:
            before = approval_dict(row)
            row.status = "expired"
            row.outcome = "approved" if row.default == "approve" else "rejected"
            row.decided_at = now
            self.audit.append(session, "system", "approval.expire", "approval", row.id,
                              before, approval_dict(row))
        if row.status == "pending":
            return Pending(row.expires_at)
        deciders = list(session.execute(
            select(ApprovalDecisionRow.actor).where(ApprovalDecisionRow.approval_id == row.id)
            .order_by(ApprovalDecisionRow.id)).scalars())
        outcome = row.outcome or row.status
        return Decided("approved" if outcome == "approved" else "rejected", deciders,
                       timed_out=row.status == "expired")

    def decide(self, principal: Principal, approval_id: int, decision: str, comment: str,
               now: datetime) -> dict[str, Any]:
        if decision not in DECISIONS:
            raise UsageError(f"decision must be approve or reject, not {decision!r}")
        with self.db.session() as session:
            row = session.execute(select(ApprovalRow).where(ApprovalRow.id == approval_id)
                                  .with_for_update()).scalar_one_or_none()
            if row is None:
                raise NotFoundError(f"no approval {approval_id}")
            if row.status != "pending":
                raise ConflictError(f"approval {approval_id} is already {row.status}")
            run_status = session.execute(select(PlaybookRunRow.status).where(
                PlaybookRunRow.id == row.run_id)).scalar_one()
            if run_status not in ("queued", "running", "waiting"):
                raise ConflictError(f"run {row.run_id} is {run_status}: nothing to decide")
            if now >= row.expires_at:
                raise ConflictError(f"approval {approval_id} timed out at {row.expires_at}")
            _may_decide(principal, row)
            done = session.execute(select(ApprovalDecisionRow).where(
                ApprovalDecisionRow.approval_id == row.id,
                ApprovalDecisionRow.actor == principal.actor)).scalar_one_or_none()
            if done is not None:
                raise ConflictError(f"{principal.actor} has already decided on approval "
                                    f"{approval_id}; four eyes need someone else")
            before = approval_dict(row)
            session.add(ApprovalDecisionRow(approval_id=row.id, actor=principal.actor,
                                            decision=decision, comment=comment, at=now))
            session.flush()
            approvals = session.execute(select(ApprovalDecisionRow).where(
                ApprovalDecisionRow.approval_id == row.id,
                ApprovalDecisionRow.decision == "approve")).scalars().all()
            if decision == "reject":
                row.status = row.outcome = "rejected"
                row.decided_at = now
            elif len(approvals) >= row.required:
                row.status = row.outcome = "approved"
                row.decided_at = now
            if row.status != "pending":
                # the run waits on this approval: wake it now rather than at its deadline
                session.execute(update(PlaybookRunRow).where(PlaybookRunRow.id == row.run_id)
                                .values(wake_at=now))
            after = approval_dict(row)
            self.audit.append(session, principal.actor, "approval.decide", "approval", row.id,
                              before, {**after, "decision": decision, "comment": comment})
            return {**after, "decisions": _decisions(session, row.id)}

    def get(self, approval_id: int) -> dict[str, Any]:
        with self.db.read() as session:
            row = session.get(ApprovalRow, approval_id)
            if row is None:
                raise NotFoundError(f"no approval {approval_id}")
            return {**approval_dict(row), "decisions": _decisions(session, row.id)}

    def find(self, status: str | None = "pending", run_id: int | None = None,
             limit: int = 100) -> list[dict[str, Any]]:
        with self.db.read() as session:
            query = select(ApprovalRow).order_by(ApprovalRow.id.desc()).limit(
                min(limit, MAX_LIST))
            if status is not None:
                query = query.where(ApprovalRow.status == status)
            if run_id is not None:
                query = query.where(ApprovalRow.run_id == run_id)
            return [approval_dict(row) for row in session.execute(query).scalars()]

    def may_decide(self, principal: Principal, approval: dict[str, Any]) -> bool:
        try:
            _check(principal, approval["roles"], approval["users"], approval["required"],
                   approval["requested_by"])
        except PermissionDenied:
            return False
        return True


def _may_decide(principal: Principal, row: ApprovalRow) -> None:
    _check(principal, row.roles, row.users, row.required, row.requested_by)


def _check(principal: Principal, roles: list[Any], users: list[Any], required: int,
           requested_by: str) -> None:
    named = principal.actor in users
    if not (named or principal.role.value in roles or principal.role is Role.ADMIN):
        who = ", ".join([*(f"role {r}" for r in roles), *users]) or "nobody"
        raise PermissionDenied(f"this approval is for {who}")
    if required > 1 and principal.actor == requested_by:
        raise PermissionDenied("four eyes: the person who started the run cannot approve it")


def _decisions(session: Session, approval_id: int) -> list[dict[str, Any]]:
    rows = session.execute(select(ApprovalDecisionRow).where(
        ApprovalDecisionRow.approval_id == approval_id).order_by(ApprovalDecisionRow.id))
    return [{"actor": d.actor, "decision": d.decision, "comment": d.comment, "at": d.at}
            for d in rows.scalars()]


def approval_dict(row: ApprovalRow) -> dict[str, Any]:
    return {"id": row.id, "run_id": row.run_id, "path": row.path, "playbook": row.playbook,
            "prompt": row.prompt, "roles": list(row.roles), "users": list(row.users),
            "required": row.required, "requested_by": row.requested_by, "status": row.status,
            "default": row.default, "outcome": row.outcome, "created_at": row.created_at,
            "expires_at": row.expires_at, "decided_at": row.decided_at}

"""What playbooks did for a case, as items of the case's timeline: runs started and ended,
approvals decided, actions taken, containment applied and rolled back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchkeeper.response.run_model import (
    ApprovalRow,
    ContainmentRow,
    PlaybookRunRow,
    PlaybookStepRow,
)

MAX_ITEMS = 500


def _item(at: datetime, kind: str, who: str | None, text: str) -> dict[str, Any]:
    return {"at": at, "kind": kind, "who": who, "text": text}


def case_items(session: Session, case_id: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    runs = session.execute(select(PlaybookRunRow).where(PlaybookRunRow.case_id == case_id)
                           .order_by(PlaybookRunRow.id).limit(MAX_ITEMS)).scalars().all()
    names = {run.id: run.playbook for run in runs}
    for run in runs:
        items.append(_item(run.created_at, "playbook.start", run.started_by,
                           f"playbook {run.playbook} started (run {run.id})"))
        if run.finished_at is not None:
            ending = f": {run.error}" if run.error else ""
            items.append(_item(run.finished_at, "playbook.finish", f"playbook:{run.playbook}",
                               f"run {run.id} {run.status}{ending}"))
    if names:
        for step in session.execute(select(PlaybookStepRow).where(
                PlaybookStepRow.run_id.in_(names), PlaybookStepRow.kind == "action",
                PlaybookStepRow.status.in_(("done", "failed"))).limit(MAX_ITEMS)).scalars():
            outcome = "failed: " + (step.error or "") if step.status == "failed" else "done"
            items.append(_item(step.updated_at, "playbook.action",
                               f"playbook:{names[step.run_id]}",
                               f"{step.action} ({step.path}) {outcome}"))
        for approval in session.execute(select(ApprovalRow).where(
                ApprovalRow.run_id.in_(names), ApprovalRow.decided_at.is_not(None))).scalars():
            assert approval.decided_at is not None
            items.append(_item(approval.decided_at, "approval", None,
                               f"approval {approval.id} {approval.status}: {approval.prompt}"))
    for held in session.execute(select(ContainmentRow).where(
            ContainmentRow.case_id == case_id).limit(MAX_ITEMS)).scalars():
        items.append(_item(held.created_at, "containment.apply", None,
                           f"{held.action} {held.target} (undo: {held.undo_action})"))
        if held.rolled_back_at is not None:
            items.append(_item(held.rolled_back_at, "containment.rollback",
                               held.rolled_back_by, f"{held.undo_action} {held.target}"))
    return items

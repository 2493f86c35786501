"""The post-incident review of a resolved or closed case: what happened, what worked,
what to change, and action items that become the case's tasks.

The review is stored on the case (a JSON column) and replaced as a whole by each edit; an
action item keeps the task made for it, so editing a review makes tasks only for new items.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from watchkeeper.cases.model import CaseTaskRow
from watchkeeper.cases.service import CaseService, _case, _task_dict
from watchkeeper.errors import ConflictError, UsageError

REVIEWABLE = ("resolved", "closed")
QUESTIONS = (
    ("what_happened", "What happened"),
    ("what_worked", "What worked"),
    ("what_to_change", "What to change"),
)
"""The template of a review: each section's key and heading."""


@dataclass(frozen=True, slots=True)
class ActionItem:
    title: str
    assignee: str | None = None


@dataclass(frozen=True, slots=True)
class Review:
    what_happened: str = ""
    what_worked: str = ""
    what_to_change: str = ""
    action_items: tuple[ActionItem, ...] = ()


def set_review(cases: CaseService, actor: str, case_id: int, review: Review) -> dict[str, Any]:
    """Store ``review`` on the case (409 unless resolved or closed); each action item not
    seen before becomes an open task."""
    titles = [item.title.strip() for item in review.action_items]
    if any(not title for title in titles):
        raise UsageError("an action item needs a title")
    if len(set(titles)) != len(titles):
        raise UsageError("action items must have different titles")
    with cases.db.session() as session:
        row = _case(session, case_id)
        if row.status not in REVIEWABLE:
            raise ConflictError(f"case {case_id} is {row.status}: a review is written once "
                                f"it is resolved or closed")
        now = datetime.now(UTC)
        before = row.review
        known = {item["title"]: item.get("task_id")
                 for item in (before or {}).get("action_items", [])}
        made: list[CaseTaskRow] = []
        items: list[dict[str, Any]] = []
        for item, title in zip(review.action_items, titles, strict=True):
            task_id = known.get(title)
            if task_id is None:
                task = CaseTaskRow(case_id=case_id, title=title, assignee=item.assignee,
                                   status="open", created_by=actor, created_at=now)
                session.add(task)
                session.flush()
                made.append(task)
                task_id = task.id
            items.append({"title": title, "assignee": item.assignee, "task_id": task_id})
        row.review = {
            "what_happened": review.what_happened, "what_worked": review.what_worked,
            "what_to_change": review.what_to_change, "action_items": items,
            "updated_by": actor, "updated_at": now.isoformat(),
        }
        row.updated_at = now
        session.flush()
        cases.audit.append(session, actor, "case.review", "case", case_id, before, row.review)
        for task in made:
            cases.audit.append(session, actor, "case.add_task", "case", case_id, None,
                               _task_dict(task))
        return dict(row.review)

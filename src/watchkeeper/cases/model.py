"""Tables of cases, the alerts each case holds, its tasks and its comments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.state.base import Base, utcnow


class CaseRow(Base):
    """One incident being worked: what it is, how bad, who has it, where it stands."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(20), index=True)
    priority: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    assignee: Mapped[str | None] = mapped_column(String(200), index=True)
    team: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    tlp: Mapped[str] = mapped_column(String(20), default="amber")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    contained_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    """The first move out of *new*: where the time-to-acknowledge SLA stops."""
    template: Mapped[str | None] = mapped_column(String(100))
    """The case template it was opened from, if any."""
    review: Mapped[dict[str, Any] | None]
    """The post-incident review (what happened, what worked, what to change, actions)."""


class CaseAlertRow(Base):
    """An alert held by a case; an alert belongs to one case at most."""

    __tablename__ = "case_alerts"

    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseTaskRow(Base):
    __tablename__ = "case_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    assignee: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(200))
    """Who should do it when nobody is assigned: a role or a team (from a template)."""
    due_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]


class CaseCommentRow(Base):
    __tablename__ = "case_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("case_comments.id"))
    """The comment this one answers (threads)."""
    author: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list[Any]] = mapped_column(default=list)
    """Usernames mentioned with ``@name`` that exist."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

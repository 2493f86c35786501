"""Tables of playbook runs: the versions they pin, each step's journal, approvals asked and
decided, containment in force, and the triggers' cursors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.state.base import Base, utcnow


class PlaybookVersionRow(Base):
    """A playbook file as it was when a run started: runs replay against this text."""

    __tablename__ = "playbook_versions"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 of the file."""
    name: Mapped[str] = mapped_column(String(100), index=True)
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlaybookRunRow(Base):
    __tablename__ = "playbook_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    playbook: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[str] = mapped_column(ForeignKey("playbook_versions.version"))
    status: Mapped[str] = mapped_column(String(20), index=True)
    """queued, running, waiting, succeeded, failed, rejected or cancelled."""
    trigger_kind: Mapped[str] = mapped_column(String(20))
    trigger: Mapped[dict[str, Any]] = mapped_column(default=dict)
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_by: Mapped[str] = mapped_column(String(200))
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="SET NULL"), index=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    dedup_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    """One run per trigger occurrence (an alert, a cron tick, a webhook delivery)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    wake_at: Mapped[datetime | None] = mapped_column(index=True)
    """When a worker should pick the run up next (None: finished)."""
    waiting_for: Mapped[str | None] = mapped_column(String(500))
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]
    """A worker advancing the run holds it until then; another may take it after."""
    outputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    error_step: Mapped[str | None] = mapped_column(String(500))
    path: Mapped[list[Any]] = mapped_column(default=list)
    """Step ids in the order they ran."""
    pinned: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The playbooks it calls, name → version, pinned when it started like its own."""


class PlaybookStepRow(Base):
    """The journal: one row per step (per loop iteration) of a run."""

    __tablename__ = "playbook_steps"
    __table_args__ = (UniqueConstraint("run_id", "path", name="uq_playbook_steps_run_path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("playbook_runs.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(500))
    step_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    """started (an action called, no answer recorded yet), done, failed, skipped, waiting,
    retrying."""
    action: Mapped[str | None] = mapped_column(String(100))
    inputs: Mapped[dict[str, Any] | None]
    outputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    wake_at: Mapped[datetime | None]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApprovalRow(Base):
    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("run_id", "path", name="uq_approvals_run_path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("playbook_runs.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(500))
    playbook: Mapped[str] = mapped_column(String(100))
    prompt: Mapped[str] = mapped_column(Text)
    roles: Mapped[list[Any]] = mapped_column(default=list)
    users: Mapped[list[Any]] = mapped_column(default=list)
    required: Mapped[int] = mapped_column(default=1)
    """Approvals needed: 2 with four eyes."""
    requested_by: Mapped[str] = mapped_column(String(200))
    """Who started the run: never one of the four eyes."""
    status: Mapped[str] = mapped_column(String(20), index=True)
    """pending, approved, rejected, or expired (nobody decided in time)."""
    default: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str | None] = mapped_column(String(20))
    """approved or rejected, once decided (for an expired one: its default)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class ApprovalDecisionRow(Base):
    __tablename__ = "approval_decisions"
    __table_args__ = (UniqueConstraint("approval_id", "actor",
                                       name="uq_approval_decisions_approval_actor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    approval_id: Mapped[int] = mapped_column(
        ForeignKey("approvals.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ContainmentRow(Base):
    """A containment action in force, with what reverses it."""

    __tablename__ = "containments"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("playbook_runs.id", ondelete="SET NULL"), index=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    key: Mapped[str] = mapped_column(String(600), unique=True)
    """The acting step's idempotency key: one record per action taken."""
    action: Mapped[str] = mapped_column(String(100))
    connector: Mapped[str | None] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(500), index=True)
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    outputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    before: Mapped[dict[str, Any]] = mapped_column(default=dict)
    undo_action: Mapped[str] = mapped_column(String(100))
    undo_inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), index=True)
    """active, rolled_back or rollback_failed."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    rolled_back_at: Mapped[datetime | None]
    rolled_back_by: Mapped[str | None] = mapped_column(String(200))
    rollback_error: Mapped[str | None] = mapped_column(Text)
    rollback_attempts: Mapped[int] = mapped_column(default=0)
    next_try_at: Mapped[datetime | None]
    """When an automatic rollback that failed is tried again (back-off doubling to a day)."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlaybookCursorRow(Base):
    """How far a trigger has looked: the last alert or case id seen, the last cron tick."""

    __tablename__ = "playbook_cursors"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_id: Mapped[int | None]
    last_at: Mapped[datetime | None]

"""Playbook runs: pinned versions, step journals, approvals, containment, trigger cursors.

Revision ID: 0007
Revises: 0006
Created: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from watchkeeper.state.base import UtcDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "playbook_cursors",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=True),
        sa.Column("last_at", UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_playbook_cursors")),
    )
    op.create_table(
        "playbook_versions",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_playbook_versions")),
    )
    with op.batch_alter_table("playbook_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_playbook_versions_name"), ["name"], unique=False)

    op.create_table(
        "playbook_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("playbook", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("trigger_kind", sa.String(length=20), nullable=False),
        sa.Column("trigger", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("dedup_key", sa.String(length=300), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("wake_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("waiting_for", sa.String(length=500), nullable=True),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", UtcDateTime(timezone=True), nullable=True),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_step", sa.String(length=500), nullable=True),
        sa.Column("path", sa.JSON(), nullable=False),
        sa.Column("pinned", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_playbook_runs_alert_id_alerts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_playbook_runs_case_id_cases"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["version"],
            ["playbook_versions.version"],
            name=op.f("fk_playbook_runs_version_playbook_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_runs")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_playbook_runs_dedup_key")),
    )
    with op.batch_alter_table("playbook_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_playbook_runs_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_playbook_runs_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_playbook_runs_playbook"), ["playbook"], unique=False)
        batch_op.create_index(batch_op.f("ix_playbook_runs_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_playbook_runs_wake_at"), ["wake_at"], unique=False)

    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("playbook", sa.String(length=100), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("users", sa.JSON(), nullable=False),
        sa.Column("required", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("default", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["playbook_runs.id"],
            name=op.f("fk_approvals_run_id_playbook_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
        sa.UniqueConstraint("run_id", "path", name="uq_approvals_run_path"),
    )
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approvals_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_approvals_status"), ["status"], unique=False)

    op.create_table(
        "containments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("connector", sa.String(length=100), nullable=True),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("undo_action", sa.String(length=100), nullable=False),
        sa.Column("undo_inputs", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("rolled_back_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("rolled_back_by", sa.String(length=200), nullable=True),
        sa.Column("rollback_error", sa.Text(), nullable=True),
        sa.Column("rollback_attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_containments_case_id_cases"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["playbook_runs.id"],
            name=op.f("fk_containments_run_id_playbook_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_containments")),
        sa.UniqueConstraint("key", name=op.f("uq_containments_key")),
    )
    with op.batch_alter_table("containments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_containments_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_containments_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_containments_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_containments_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_containments_target"), ["target"], unique=False)

    op.create_table(
        "playbook_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("step_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=True),
        sa.Column("inputs", sa.JSON(), nullable=True),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("wake_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("started_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["playbook_runs.id"],
            name=op.f("fk_playbook_steps_run_id_playbook_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_steps")),
        sa.UniqueConstraint("run_id", "path", name="uq_playbook_steps_run_path"),
    )
    with op.batch_alter_table("playbook_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_playbook_steps_run_id"), ["run_id"], unique=False)

    op.create_table(
        "approval_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("approval_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approval_id"],
            ["approvals.id"],
            name=op.f("fk_approval_decisions_approval_id_approvals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_decisions")),
        sa.UniqueConstraint("approval_id", "actor", name="uq_approval_decisions_approval_actor"),
    )
    with op.batch_alter_table("approval_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_approval_decisions_approval_id"), ["approval_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("approval_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_decisions_approval_id"))

    op.drop_table("approval_decisions")
    with op.batch_alter_table("playbook_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_playbook_steps_run_id"))

    op.drop_table("playbook_steps")
    with op.batch_alter_table("containments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_containments_target"))
        batch_op.drop_index(batch_op.f("ix_containments_status"))
        batch_op.drop_index(batch_op.f("ix_containments_run_id"))
        batch_op.drop_index(batch_op.f("ix_containments_expires_at"))
        batch_op.drop_index(batch_op.f("ix_containments_case_id"))

    op.drop_table("containments")
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approvals_status"))
        batch_op.drop_index(batch_op.f("ix_approvals_run_id"))

    op.drop_table("approvals")
    with op.batch_alter_table("playbook_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_playbook_runs_wake_at"))
        batch_op.drop_index(batch_op.f("ix_playbook_runs_status"))
        batch_op.drop_index(batch_op.f("ix_playbook_runs_playbook"))
        batch_op.drop_index(batch_op.f("ix_playbook_runs_case_id"))
        batch_op.drop_index(batch_op.f("ix_playbook_runs_alert_id"))

    op.drop_table("playbook_runs")
    with op.batch_alter_table("playbook_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_playbook_versions_name"))

    op.drop_table("playbook_versions")
    op.drop_table("playbook_cursors")

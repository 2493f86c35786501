"""Cases, the alerts they hold, their tasks and comments.

Revision ID: 0003
Revises: 0002
Created: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from watchkeeper.state.base import UtcDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assignee", sa.String(length=200), nullable=True),
        sa.Column("team", sa.String(length=200), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("contained_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_assignee"), ["assignee"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_severity"), ["severity"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_status"), ["status"], unique=False)

    op.create_table(
        "case_alerts",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("added_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_case_alerts_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_alerts_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_case_alerts")),
    )
    with op.batch_alter_table("case_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_alerts_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("mentions", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_comments_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["case_comments.id"],
            name=op.f("fk_case_comments_parent_id_case_comments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_comments")),
    )
    with op.batch_alter_table("case_comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_comments_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("assignee", sa.String(length=200), nullable=True),
        sa.Column("due_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("done_at", UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_tasks_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_tasks")),
    )
    with op.batch_alter_table("case_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_tasks_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_tasks_case_id"))

    op.drop_table("case_tasks")
    with op.batch_alter_table("case_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_comments_case_id"))

    op.drop_table("case_comments")
    with op.batch_alter_table("case_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_alerts_case_id"))

    op.drop_table("case_alerts")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_status"))
        batch_op.drop_index(batch_op.f("ix_cases_severity"))
        batch_op.drop_index(batch_op.f("ix_cases_assignee"))

    op.drop_table("cases")

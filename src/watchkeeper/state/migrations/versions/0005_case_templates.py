"""Case templates, SLAs and reviews; notifications.

Revision ID: 0005
Revises: 0004
Created: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from watchkeeper.state.base import UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("to_role", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("read_at", UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_notifications_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("case_id", "kind", name="uq_notifications_case_kind"),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_to_role"), ["to_role"], unique=False)

    with op.batch_alter_table("case_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role", sa.String(length=200), nullable=True))

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("acknowledged_at", UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("template", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("review", sa.JSON(), nullable=True))
    # Cases already worked count as acknowledged at their first recorded step.
    op.execute(
        "UPDATE cases SET acknowledged_at = "
        "COALESCE(contained_at, resolved_at, closed_at, updated_at) WHERE status <> 'new'"
    )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("review")
        batch_op.drop_column("template")
        batch_op.drop_column("acknowledged_at")

    with op.batch_alter_table("case_tasks", schema=None) as batch_op:
        batch_op.drop_column("role")

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_to_role"))
        batch_op.drop_index(batch_op.f("ix_notifications_case_id"))

    op.drop_table("notifications")

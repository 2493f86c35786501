"""Case observables and evidence files.

Revision ID: 0006
Revises: 0005
Created: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from watchkeeper.state.base import UtcDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("uploaded_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_evidence_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_evidence")),
    )
    with op.batch_alter_table("case_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_evidence_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_evidence_sha256"), ["sha256"], unique=False)

    op.create_table(
        "case_observables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=1000), nullable=False),
        sa.Column("first_seen", UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_seen", UtcDateTime(timezone=True), nullable=True),
        sa.Column("alert_ids", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("intel", sa.JSON(), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_observables_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_observables")),
        sa.UniqueConstraint("case_id", "kind", "value",
                            name="uq_case_observables_case_kind_value"),
    )
    with op.batch_alter_table("case_observables", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_observables_case_id"), ["case_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_observables", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_observables_case_id"))
    op.drop_table("case_observables")
    with op.batch_alter_table("case_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_evidence_sha256"))
        batch_op.drop_index(batch_op.f("ix_case_evidence_case_id"))
    op.drop_table("case_evidence")

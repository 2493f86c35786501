"""Vulnerability findings, kept by key, and the decisions taken on them; what the asset
inventory says of each asset's kind, team, exposure and environment.

Revision ID: 0009
Revises: 0008
Created: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from watchkeeper.state.base import UtcDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), nullable=False,
                                      server_default="host"))
        batch_op.add_column(sa.Column("team", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("exposure", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("environment", sa.String(length=50), nullable=True))
    op.create_table(
        "vuln_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("vex_state", sa.String(length=30), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("decided_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vuln_decisions")),
    )
    with op.batch_alter_table("vuln_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vuln_decisions_key"), ["key"], unique=False)

    op.create_table(
        "vuln_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("title", sa.String(length=1000), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("location", sa.String(length=2000), nullable=False),
        sa.Column("ecosystem", sa.String(length=100), nullable=True),
        sa.Column("package", sa.String(length=500), nullable=True),
        sa.Column("version", sa.String(length=200), nullable=True),
        sa.Column("fixed_in", sa.JSON(), nullable=False),
        sa.Column("tools", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("asset", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cvss_score", sa.Double(), nullable=True),
        sa.Column("cvss_vector", sa.String(length=200), nullable=True),
        sa.Column("risk", sa.Double(), nullable=True),
        sa.Column("decision", sa.String(length=10), nullable=True),
        sa.Column("priority_inputs", sa.JSON(), nullable=False),
        sa.Column("due_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("opened_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("first_seen", UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", UtcDateTime(timezone=True), nullable=False),
        sa.Column("fixed_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_vuln_findings_case_id_cases"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vuln_findings")),
        sa.UniqueConstraint("key", name=op.f("uq_vuln_findings_key")),
    )
    with op.batch_alter_table("vuln_findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vuln_findings_asset"), ["asset"], unique=False)
        batch_op.create_index(batch_op.f("ix_vuln_findings_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_vuln_findings_package"), ["package"], unique=False)
        batch_op.create_index(batch_op.f("ix_vuln_findings_risk"), ["risk"], unique=False)
        batch_op.create_index(batch_op.f("ix_vuln_findings_rule"), ["rule"], unique=False)
        batch_op.create_index(batch_op.f("ix_vuln_findings_severity"), ["severity"], unique=False)
        batch_op.create_index(batch_op.f("ix_vuln_findings_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        for column in ("environment", "exposure", "team", "kind"):
            batch_op.drop_column(column)
    with op.batch_alter_table("vuln_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vuln_findings_status"))
        batch_op.drop_index(batch_op.f("ix_vuln_findings_severity"))
        batch_op.drop_index(batch_op.f("ix_vuln_findings_rule"))
        batch_op.drop_index(batch_op.f("ix_vuln_findings_risk"))
        batch_op.drop_index(batch_op.f("ix_vuln_findings_package"))
        batch_op.drop_index(batch_op.f("ix_vuln_findings_due_at"))
        batch_op.drop_index(batch_op.f("ix_vuln_findings_asset"))

    op.drop_table("vuln_findings")
    with op.batch_alter_table("vuln_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vuln_decisions_key"))

    op.drop_table("vuln_decisions")

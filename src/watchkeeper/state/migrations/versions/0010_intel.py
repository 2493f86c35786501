"""Threat intelligence: indicators, their sources, sightings, feeds and the allowlist;
the alerts' context (a threat-intel match's indicator).

Revision ID: 0010
Revises: 0009
Created: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from watchkeeper.state.base import UtcDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intel_allowlist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("added_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_allowlist")),
        sa.UniqueConstraint("kind", "value", name="uq_intel_allow"),
    )
    op.create_table(
        "intel_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("cursor", sa.String(length=200), nullable=True),
        sa.Column("last_run_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_ok_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_counts", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_feeds")),
        sa.UniqueConstraint("name", name=op.f("uq_intel_feeds_name")),
    )
    op.create_table(
        "intel_indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("stix_id", sa.String(length=80), nullable=False),
        sa.Column("confidence", sa.Integer(), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("attack", sa.JSON(), nullable=False),
        sa.Column("threat", sa.String(length=500), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("first_seen", UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", UtcDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", UtcDateTime(timezone=True), nullable=True),
        sa.Column("sightings", sa.Integer(), nullable=False),
        sa.Column("false_positives", sa.Integer(), nullable=False),
        sa.Column("last_sighting", UtcDateTime(timezone=True), nullable=True),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("expires_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("suppressed_by", sa.String(length=300), nullable=True),
        sa.Column("hunted_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_indicators")),
        sa.UniqueConstraint("key", name=op.f("uq_intel_indicators_key")),
    )
    with op.batch_alter_table("intel_indicators", schema=None) as batch_op:
        batch_op.create_index("ix_intel_indicators_active", ["active", "kind"], unique=False)
        batch_op.create_index("ix_intel_indicators_hunt", ["active", "hunted_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_intel_indicators_stix_id"), ["stix_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_intel_indicators_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_intel_indicators_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_intel_indicators_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_intel_indicators_updated_at"), ["updated_at"], unique=False
        )

    op.create_table(
        "intel_indicator_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("confidence", sa.Integer(), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("attack", sa.JSON(), nullable=False),
        sa.Column("threat", sa.String(length=500), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("first_seen", UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_seen", UtcDateTime(timezone=True), nullable=True),
        sa.Column("valid_until", UtcDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("added_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["intel_indicators.id"],
            name=op.f("fk_intel_indicator_sources_indicator_id_intel_indicators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_indicator_sources")),
        sa.UniqueConstraint("indicator_id", "source", name="uq_intel_source"),
    )
    with op.batch_alter_table("intel_indicator_sources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intel_indicator_sources_indicator_id"), ["indicator_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_intel_indicator_sources_source"), ["source"], unique=False
        )

    op.create_table(
        "intel_sightings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=80), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["intel_indicators.id"],
            name=op.f("fk_intel_sightings_indicator_id_intel_indicators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_sightings")),
    )
    with op.batch_alter_table("intel_sightings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intel_sightings_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_intel_sightings_indicator_id"), ["indicator_id"], unique=False
        )

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("context", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("context")

    with op.batch_alter_table("intel_sightings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_sightings_indicator_id"))
        batch_op.drop_index(batch_op.f("ix_intel_sightings_at"))

    op.drop_table("intel_sightings")
    with op.batch_alter_table("intel_indicator_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_indicator_sources_source"))
        batch_op.drop_index(batch_op.f("ix_intel_indicator_sources_indicator_id"))

    op.drop_table("intel_indicator_sources")
    with op.batch_alter_table("intel_indicators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_indicators_updated_at"))
        batch_op.drop_index(batch_op.f("ix_intel_indicators_kind"))
        batch_op.drop_index(batch_op.f("ix_intel_indicators_expires_at"))
        batch_op.drop_index(batch_op.f("ix_intel_indicators_created_at"))
        batch_op.drop_index(batch_op.f("ix_intel_indicators_stix_id"))
        batch_op.drop_index("ix_intel_indicators_hunt")
        batch_op.drop_index("ix_intel_indicators_active")

    op.drop_table("intel_indicators")
    op.drop_table("intel_feeds")
    op.drop_table("intel_allowlist")

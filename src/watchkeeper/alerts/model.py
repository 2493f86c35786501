"""Tables of alerts and of the events each alert counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.state.base import Base, utcnow


class AlertRow(Base):
    """One alert: a rule's matches on one group of entities within one window."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(200), index=True)
    rule_title: Mapped[str] = mapped_column(String(500))
    level: Mapped[str] = mapped_column(String(20))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    tactics: Mapped[list[Any]] = mapped_column(default=list)
    group_key: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the rule id and the group-by values: alerts of one group share it."""
    entities: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """host, user, source.ip, destination.ip, process: the values of the first match."""
    host: Mapped[str | None] = mapped_column(String(255), index=True)
    """The host entity, lower-cased: the queue's most common filter."""
    asset_criticality: Mapped[str | None] = mapped_column(String(20))
    risk_score: Mapped[int] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    verdict: Mapped[str | None] = mapped_column(String(20))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    count: Mapped[int] = mapped_column(default=1)
    first_event_id: Mapped[str] = mapped_column(String(80))
    first_ingested: Mapped[datetime]
    """When the first matching event arrived; with ``created_at`` it gives ingest-to-alert."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    context: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    """What the rule knew beyond the events: for a threat-intel match, the indicator, its
    sources, confidence, TLP and related threat."""

    __table_args__ = (
        Index("ix_alerts_group", "rule_id", "group_key", "first_seen"),
        Index("ix_alerts_queue", "status", "risk_score"),
    )


class AlertEventRow(Base):
    """A (rule, event) pair already counted: what makes alerting idempotent on replay."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[str] = mapped_column(String(80))
    timestamp: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("rule_id", "event_id", name="uq_alert_events_rule_event"),)

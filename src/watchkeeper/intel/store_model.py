"""Tables of the indicator store: indicators, what each source says of them, sightings,
feeds and the local allowlist.

One row per (kind, value), whatever the number of sources: a value in ten feeds is one
indicator with ten source rows, never ten indicators to correlate (the table that grows
quadratically in other tools). Matching state is kept on the row — ``active`` and
``expires_at``, when its decayed score falls under the threshold — so that the matcher
loads active rows only and an hourly update retires the decayed ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.state.base import Base, utcnow


class IndicatorRow(Base):
    __tablename__ = "intel_indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of kind and value: values can be longer than an index allows."""
    kind: Mapped[str] = mapped_column(String(20), index=True)
    value: Mapped[str] = mapped_column(Text)
    stix_id: Mapped[str] = mapped_column(String(80), index=True)
    """The id its STIX object is shared under: a TAXII client asks for objects by it."""
    confidence: Mapped[int]
    tlp: Mapped[str] = mapped_column(String(20))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    attack: Mapped[list[Any]] = mapped_column(default=list)
    threat: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    sightings: Mapped[int] = mapped_column(default=0)
    false_positives: Mapped[int] = mapped_column(default=0)
    last_sighting: Mapped[datetime | None]
    score: Mapped[float] = mapped_column(default=0.0)
    """The decayed score when it was last computed (an import, a sighting)."""
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    """When the score falls under the threshold, or the indicator's validity ends."""
    active: Mapped[bool] = mapped_column(default=True)
    suppressed_by: Mapped[str | None] = mapped_column(String(300))
    """The warning list or allowlist entry that keeps it from matching."""
    hunted_at: Mapped[datetime | None]
    """When stored events were searched for it (retro-hunt); null until then."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (
        Index("ix_intel_indicators_active", "active", "kind"),
        Index("ix_intel_indicators_hunt", "active", "hunted_at"),
    )


class IndicatorSourceRow(Base):
    """What one source says of one indicator: its provenance, and its claims (context,
    validity), kept apart so that the indicator shows only what its live sources say: a
    TLP:RED source's description leaves with that source."""

    __tablename__ = "intel_indicator_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("intel_indicators.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(200), index=True)
    external_id: Mapped[str | None] = mapped_column(String(200))
    confidence: Mapped[int]
    tlp: Mapped[str] = mapped_column(String(20))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    attack: Mapped[list[Any]] = mapped_column(default=list)
    threat: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    first_seen: Mapped[datetime | None]
    last_seen: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]
    withdrawn: Mapped[bool] = mapped_column(default=False)
    """The source took it back: it no longer counts for the indicator."""
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("indicator_id", "source", name="uq_intel_source"),)


class SightingRow(Base):
    __tablename__ = "intel_sightings"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("intel_indicators.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    """``seen`` or ``false-positive``."""
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    by: Mapped[str] = mapped_column(String(200))
    count: Mapped[int] = mapped_column(default=1)
    event_id: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(Text, default="")


class FeedRow(Base):
    """A feed pulled on a schedule; its cursor makes each pull incremental."""

    __tablename__ = "intel_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(String(2000))
    """An https URL, or a file or folder path for local feeds."""
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    secret: Mapped[str | None] = mapped_column(Text)
    """The API key or password, encrypted with the server's secret key."""
    interval_s: Mapped[int] = mapped_column(default=3600)
    enabled: Mapped[bool] = mapped_column(default=True)
    cursor: Mapped[str | None] = mapped_column(String(200))
    last_run_at: Mapped[datetime | None]
    last_ok_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AllowRow(Base):
    """A value the SOC knows to be benign: never matched, never imported as active."""

    __tablename__ = "intel_allowlist"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(2048))
    reason: Mapped[str] = mapped_column(Text, default="")
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "value", name="uq_intel_allow"),)

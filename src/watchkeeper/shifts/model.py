"""Tables of the shift roster and of the handovers shifts leave each other."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.state.base import Base, utcnow


class ShiftRow(Base):
    """One shift of the roster: a daily window in UTC on some weekdays, and its members."""

    __tablename__ = "shifts"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    start: Mapped[str] = mapped_column(String(5))
    """``HH:MM`` UTC; a shift whose end is not after its start crosses midnight."""
    end: Mapped[str] = mapped_column(String(5))
    weekdays: Mapped[list[Any]] = mapped_column(default=list)
    """``mon`` … ``sun``, the days a shift starts on; empty means every day."""
    members: Mapped[list[Any]] = mapped_column(default=list)
    """Usernames."""
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class HandoverRow(Base):
    """A handover: a snapshot of what the outgoing shift leaves, and who took it over."""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    shift: Mapped[str] = mapped_column(String(50), index=True)
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The snapshot, as JSON data: see ``docs/handover.md``."""
    markdown: Mapped[str] = mapped_column(Text)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime | None]

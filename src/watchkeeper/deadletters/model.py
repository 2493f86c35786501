"""Rejected input, kept with its reason."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.state.base import Base, utcnow


class DeadLetterRow(Base):
    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    receiver: Mapped[str] = mapped_column(String(50))
    """``syslog-tcp``, ``http``, ``file``, ``pipeline`` (a record no parser could read)."""
    origin: Mapped[str] = mapped_column(String(500))
    source_type: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(200))
    spool_seq: Mapped[int | None] = mapped_column(BigInteger)
    """The spool chunk it came from: with ``location``, what makes a replayed batch add
    no second copy."""
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    replayed_at: Mapped[datetime | None]
    replayed_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("spool_seq", "location", name="uq_dead_letters_spool_seq"),
    )

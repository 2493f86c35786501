"""The table of notifications sent to a role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.state.base import Base, utcnow


class NotificationRow(Base):
    """One message to everyone holding ``to_role``; one per case and kind at most."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("case_id", "kind", name="uq_notifications_case_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_role: Mapped[str] = mapped_column(String(200), index=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

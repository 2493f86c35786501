"""Per-rule settings and exceptions that analysts change at run time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.state.base import Base, utcnow


class RuleSettingRow(Base):
    """What differs from a rule's defaults: switched off, or grouped differently."""

    __tablename__ = "rule_settings"

    rule_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    group_by: Mapped[list[Any] | None]
    window_s: Mapped[int | None]
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RuleExceptionRow(Base):
    """Known-good activity taken out of some rules (or all): a Sigma detection map."""

    __tablename__ = "rule_exceptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    rules: Mapped[list[Any] | None]
    """Rule ids or titles; null for every rule."""
    reason: Mapped[str] = mapped_column(Text)
    match: Mapped[Any] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

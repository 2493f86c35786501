"""The table of configured connectors; their secrets are stored sealed (see ``secrets``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.state.base import Base, utcnow


class ConnectorRow(Base):
    """One endpoint playbook steps act through, named by the steps' ``connector:``."""

    __tablename__ = "connectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(50))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    secrets: Mapped[str] = mapped_column(Text)
    """A Fernet token of the name → value mapping; never read without the key."""
    secret_names: Mapped[list[Any]] = mapped_column(default=list)
    """The names alone, so that listings need not decrypt."""
    allow_private: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

"""The asset table that enrichment reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.state.base import Base, utcnow

CRITICALITIES = ("low", "medium", "high", "critical")
KINDS = ("host", "service", "application", "image")
EXPOSURES = ("internet", "internal")


class AssetRow(Base):
    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    """Host name, stored lower-case; matched against ``host.name`` and its short form."""
    ip: Mapped[str | None] = mapped_column(String(64))
    criticality: Mapped[str] = mapped_column(String(20), default="medium")
    owner: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[str | None] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20), default="host", server_default="host")
    team: Mapped[str | None] = mapped_column(String(200))
    exposure: Mapped[str | None] = mapped_column(String(20))
    """``internet`` (reachable from the internet) or ``internal``; unknown when null."""
    environment: Mapped[str | None] = mapped_column(String(50))
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

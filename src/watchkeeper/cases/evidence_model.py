"""Tables of what a case gathers beyond its alerts: observables and evidence files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.state.base import Base, utcnow


class CaseObservableRow(Base):
    """An IP, domain, hash, user, host or process seen in a case, once per kind and value."""

    __tablename__ = "case_observables"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(1000))
    first_seen: Mapped[datetime | None]
    last_seen: Mapped[datetime | None]
    alert_ids: Mapped[list[Any]] = mapped_column(default=list)
    """The case's alerts it was extracted from (empty for one added by hand only)."""
    source: Mapped[str] = mapped_column(String(20))
    """``alerts`` (extracted) or ``manual`` (added by someone; never removed by a refresh)."""
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """What is known locally: for a host, the asset table's criticality and owner."""
    intel: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """Threat-intel context, filled by an intel provider (none is built yet)."""
    note: Mapped[str | None] = mapped_column(String(2000))
    added_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("case_id", "kind", "value", name="uq_case_observables_case_kind_value"),
    )


class CaseEvidenceRow(Base):
    """A file attached to a case; its bytes are stored once by SHA-256 in the data folder."""

    __tablename__ = "case_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    """The uploaded file name, sanitized: no folders, no control characters."""
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(200))
    """As the uploader declared it; downloads are always sent as an attachment."""
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

"""Tables of findings and of the decisions people take on them.

A finding row is one flaw in one place, known by its key (see
:attr:`watchkeeper.vulns.model.Finding.key`): a re-import, a version bump or a second tool
reporting it updates that row instead of adding one. Decisions (a suppression, a risk
acceptance with its expiry, a VEX statement) are kept by key too, apart from the finding,
so they still apply when the finding comes back after being fixed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.state.base import Base, utcnow


class FindingRow(Base):
    __tablename__ = "vuln_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    rule: Mapped[str] = mapped_column(String(200), index=True)
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    title: Mapped[str] = mapped_column(String(1000))
    severity: Mapped[str] = mapped_column(String(20), index=True)
    location: Mapped[str] = mapped_column(String(2000))
    ecosystem: Mapped[str | None] = mapped_column(String(100))
    package: Mapped[str | None] = mapped_column(String(500), index=True)
    version: Mapped[str | None] = mapped_column(String(200))
    """The version last seen (a bump changes it, not the finding)."""
    fixed_in: Mapped[list[Any]] = mapped_column(default=list)
    tools: Mapped[list[Any]] = mapped_column(default=list)
    sources: Mapped[list[Any]] = mapped_column(default=list)
    """``source|tool`` for each scan source (a repository, an image, a host) and tool that
    reports it: a complete scan by one tool fixes only what that tool no longer sees."""
    asset: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    """open, fixed (no longer reported by a full scan of a source that had it)."""
    cvss_score: Mapped[float | None]
    cvss_vector: Mapped[str | None] = mapped_column(String(200))
    risk: Mapped[float | None] = mapped_column(index=True)
    decision: Mapped[str | None] = mapped_column(String(10))
    """The SSVC decision: Track, Track*, Attend or Act."""
    priority_inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None]
    """When it was last found open (first seen, or reopened): its deadline counts from it."""
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    fixed_at: Mapped[datetime | None]
    description: Mapped[str] = mapped_column(Text, default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    """The case opened for it when it was urgent on an exposed critical asset."""


class FindingDecisionRow(Base):
    """What people decided about a finding key: it is a false positive (suppressed), the
    risk is accepted until a date, or a VEX statement says it does not apply."""

    __tablename__ = "vuln_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    """suppress, accept or vex."""
    reason: Mapped[str] = mapped_column(Text)
    vex_state: Mapped[str | None] = mapped_column(String(30))
    """not_affected, affected, fixed, under_investigation (for ``vex``)."""
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

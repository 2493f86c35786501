"""The audit log's tables: the hash-chained entries and the one-row head that seals the tail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from watchkeeper.state.base import Base

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first entry."""

HEAD_ID = 1


class AuditEntry(Base):
    """One recorded change. Ids are given out gap-free in append order, under the head's lock."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    object_type: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The last entry's id and hash, one row, locked by every append.

    It serializes appends on PostgreSQL (``SELECT … FOR UPDATE``) and lets ``verify`` notice
    entries removed from the end, which would otherwise leave a valid, shorter chain.
    """

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint(f"id = {HEAD_ID}", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int]
    last_hash: Mapped[str] = mapped_column(String(64))


def _refuse_change(_mapper: Mapper[Any], _connection: Connection, target: AuditEntry) -> None:
    raise TypeError(f"audit entry {target.id} is append-only")


event.listen(AuditEntry, "before_update", _refuse_change)
event.listen(AuditEntry, "before_delete", _refuse_change)


def _seed_head(target: Any, connection: Connection, **_kw: Any) -> None:
    """Give a freshly created ``audit_head`` its row (``create_all``; migrations seed it too)."""
    connection.execute(target.insert().values(id=HEAD_ID, last_id=0, last_hash=GENESIS_HASH))


event.listen(AuditHead.__table__, "after_create", _seed_head)

"""One page of a listing and how many rows match in all: what every list route answers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


def page(session: Session, query: Select[Any], order: tuple[Any, ...], limit: int,
         offset: int) -> tuple[list[Any], int]:
    """The rows of ``query`` in ``order`` from ``offset``, at most ``limit``; and the total."""
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(*order).limit(limit).offset(offset)).scalars().all()
    return list(rows), int(total)

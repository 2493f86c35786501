"""The roster and handovers in the state database. Every change is written to the audit
log in the same transaction; a handover is acknowledged once, by someone other than its
author."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from watchkeeper.audit.chain import as_stored
from watchkeeper.audit.service import AuditLog
from watchkeeper.cases.sla import SlaPolicy
from watchkeeper.config import CaseSettings
from watchkeeper.errors import ConflictError, NotFoundError, UsageError
from watchkeeper.reports import md
from watchkeeper.search.values import like_literal
from watchkeeper.shifts.model import HandoverRow, ShiftRow
from watchkeeper.shifts.report import to_markdown
from watchkeeper.shifts.roster import Shift, current_shift, parse_roster, parse_shift
from watchkeeper.shifts.snapshot import gather
from watchkeeper.state.base import utcnow
from watchkeeper.state.db import StateDB
from watchkeeper.state.paging import page

UNSCHEDULED = "unscheduled"
"""The shift name of a handover written when no rostered shift is on duty."""
DEFAULT_LOOKBACK = timedelta(hours=12)
"""The window of a first handover when no rostered shift is on duty."""
MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class HandoverFilter:
    q: str | None = None
    """Text anywhere in the handover (its Markdown), its shift or its author."""
    since: datetime | None = None
    """Handovers written at or after this time."""
    until: datetime | None = None
    limit: int = 50
    offset: int = 0

    def check(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT or self.offset < 0:
            raise UsageError(f"limit must be 1–{MAX_LIMIT} and offset ≥ 0")
        if self.since and self.until and self.until <= self.since:
            raise UsageError("until must be after since")
        if self.q is not None and len(self.q) > 200:
            raise UsageError("q is at most 200 characters")


def summary(row: HandoverRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "shift": row.shift,
        "period_start": row.period_start,
        "period_end": row.period_end,
        "author": row.author,
        "created_at": row.created_at,
        "acknowledged_by": row.acknowledged_by,
        "acknowledged_at": row.acknowledged_at,
    }


def handover_dict(row: HandoverRow) -> dict[str, Any]:
    return {**summary(row), "content": row.content, "markdown": row.markdown}


def _shift(row: ShiftRow) -> Shift:
    return parse_shift({"name": row.name, "start": row.start, "end": row.end,
                        "weekdays": row.weekdays, "members": row.members})


class ShiftService:
    """The roster, and the handovers written against it."""

    def __init__(
        self, db: StateDB, audit: AuditLog, *, clock: Callable[[], datetime] = utcnow,
        sla: SlaPolicy | None = None,
    ) -> None:
        self.db = db
        self.audit = audit
        self.clock = clock
        self.sla = sla if sla is not None else SlaPolicy.from_settings(CaseSettings())
        """The SLA times the handover checks open cases against."""

    def roster(self) -> list[Shift]:
        with self.db.read() as session:
            return _roster(session)

    def set_roster(self, actor: str, items: Sequence[Mapping[str, Any]]) -> list[Shift]:
        """Replace the whole roster (shifts missing from ``items`` are removed)."""
        shifts = parse_roster(items)
        with self.db.session() as session:
            before = [s.as_dict() for s in _roster(session)]
            session.execute(delete(ShiftRow))
            now = self.clock()
            for shift in shifts:
                session.add(ShiftRow(**shift.as_dict(), updated_by=actor, updated_at=now))
            session.flush()
            after = [s.as_dict() for s in shifts]
            self.audit.append(session, actor, "roster.update", "roster", None,
                              {"shifts": before}, {"shifts": after})
        return shifts

    def on_duty(self) -> dict[str, Any] | None:
        duty = current_shift(self.roster(), self.clock())
        if duty is None:
            return None
        return {**duty.shift.as_dict(), "from": duty.start, "to": duty.end}

    def generate(self, author: str, shift: str | None = None) -> dict[str, Any]:
        """Write the handover of ``shift`` (default: the one on duty) for the window since
        the last handover, or since the shift began when there was none."""
        now = self.clock()
        with self.db.session() as session:
            name, members, begin = self._outgoing(session, shift, now)
            last = session.execute(
                select(HandoverRow).order_by(HandoverRow.created_at.desc(), HandoverRow.id.desc())
                .limit(1)
            ).scalar_one_or_none()
            if last is not None and last.period_end < now:
                begin = last.period_end
            content = gather(session, begin, now, self.sla)
            content = {"shift": name, "members": members, "author": author,
                       "period": {"start": begin, "end": now}, **content}
            row = HandoverRow(shift=name, period_start=begin, period_end=now, author=author,
                              created_at=now, content={}, markdown="")
            session.add(row)
            session.flush()
            row.content = _plain({"id": row.id, **content})
            row.markdown = to_markdown(row.content)
            session.flush()
            self.audit.append(session, author, "handover.create", "handover", row.id, None,
                              summary(row))
            return handover_dict(row)

    def _outgoing(
        self, session: Session, name: str | None, now: datetime
    ) -> tuple[str, list[str], datetime]:
        roster = _roster(session)
        if name is not None:
            found = next((s for s in roster if s.name == name.strip().lower()), None)
            if found is None:
                raise NotFoundError(f"no shift {name!r} in the roster")
            began = found.last_start(now)
            if began is None:
                raise UsageError(f"shift {found.name} has not run in the last week")
            return found.name, list(found.members), began
        duty = current_shift(roster, now)
        if duty is None:
            return UNSCHEDULED, [], now - DEFAULT_LOOKBACK
        return duty.shift.name, list(duty.shift.members), duty.start

    def list(self, wanted: HandoverFilter) -> tuple[list[dict[str, Any]], int]:
        """Handovers, newest first, and how many match in all."""
        wanted.check()
        query = select(HandoverRow)
        if wanted.q:
            # the Markdown escapes punctuation (``Mimikatz\\_dump``): search it as written there
            query = query.where(or_(
                HandoverRow.markdown.ilike(_like(md(wanted.q)), escape="\\"),
                HandoverRow.shift.ilike(_like(wanted.q), escape="\\"),
                HandoverRow.author.ilike(_like(wanted.q), escape="\\"),
            ))
        if wanted.since:
            query = query.where(HandoverRow.created_at >= wanted.since)
        if wanted.until:
            query = query.where(HandoverRow.created_at < wanted.until)
        with self.db.read() as session:
            rows, total = page(session, query,
                               (HandoverRow.created_at.desc(), HandoverRow.id.desc()),
                               wanted.limit, wanted.offset)
            return [summary(row) for row in rows], total

    def get(self, handover_id: int) -> dict[str, Any]:
        with self.db.read() as session:
            return handover_dict(_row(session, handover_id))

    def latest(self) -> dict[str, Any] | None:
        with self.db.read() as session:
            row = session.execute(
                select(HandoverRow).order_by(HandoverRow.created_at.desc(), HandoverRow.id.desc())
                .limit(1)
            ).scalar_one_or_none()
            return None if row is None else handover_dict(row)

    def acknowledge(self, handover_id: int, actor: str) -> dict[str, Any]:
        """The incoming analyst takes the handover over: once, and not its own author."""
        with self.db.session() as session:
            row = _row(session, handover_id)
            if row.acknowledged_by is not None:
                raise ConflictError(
                    f"handover {handover_id} was acknowledged by {row.acknowledged_by} already"
                )
            if row.author == actor:
                raise ConflictError("the incoming shift acknowledges a handover, not its author")
            before = summary(row)
            # only if nobody did meanwhile: two analysts acknowledging at once get one 409
            taken = session.execute(
                update(HandoverRow)
                .where(HandoverRow.id == handover_id, HandoverRow.acknowledged_by.is_(None))
                .values(acknowledged_by=actor, acknowledged_at=self.clock())
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                raise ConflictError(f"handover {handover_id} was acknowledged meanwhile")
            session.refresh(row)
            after = summary(row)
            self.audit.append(session, actor, "handover.acknowledge", "handover", row.id,
                              {"acknowledged_by": before["acknowledged_by"]},
                              {"acknowledged_by": after["acknowledged_by"],
                               "acknowledged_at": after["acknowledged_at"]})
            return handover_dict(row)


def _like(text: str) -> str:
    """A LIKE pattern finding ``text`` anywhere, its wildcards taken literally."""
    return f"%{like_literal(text)}%"


def _roster(session: Session) -> list[Shift]:
    rows = session.execute(select(ShiftRow).order_by(ShiftRow.start, ShiftRow.name)).scalars()
    return [_shift(row) for row in rows]


def _row(session: Session, handover_id: int) -> HandoverRow:
    row = session.get(HandoverRow, handover_id)
    if row is None:
        raise NotFoundError(f"no handover {handover_id}")
    return row


def _plain(value: dict[str, Any]) -> dict[str, Any]:
    """The snapshot as JSON data (times as ISO 8601 text), as it reads back."""
    return as_stored(value) or {}

"""SLA breaches of open cases: listed on demand, and escalated once each by a schedule.

:meth:`SlaWatch.check_slas` is what the server calls on a timer: the first time it sees a
case breach an SLA it records one notification to the escalation role (the database's
unique key on case and kind makes that exactly once, even with two checkers), audited in
the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from watchkeeper.audit.service import AuditLog
from watchkeeper.cases.model import CaseRow
from watchkeeper.cases.service import OPEN_STATUSES, CaseService, case_dict
from watchkeeper.cases.sla import AT_RISK, BREACHED, sla_states
from watchkeeper.notifications.model import NotificationRow
from watchkeeper.state.db import StateDB

OPEN = OPEN_STATUSES
ACTOR = "system"


class SlaWatch:
    def __init__(self, cases: CaseService, escalate_to: str = "responder") -> None:
        self.cases = cases
        self.escalate_to = escalate_to

    @property
    def db(self) -> StateDB:
        return self.cases.db

    @property
    def audit(self) -> AuditLog:
        return self.cases.audit

    def overdue(self, now: datetime) -> list[dict[str, Any]]:
        """Open cases with an SLA still running that is breached or at risk, most urgent
        (earliest due) first."""
        found = []
        with self.db.read() as session:
            rows = session.execute(select(CaseRow).where(CaseRow.status.in_(OPEN))
                                   .order_by(CaseRow.id)).scalars().all()
            for row in rows:
                case = self.cases.with_sla(case_dict(row), now)
                urgent = [s for s in case["sla"] if s["state"] in (BREACHED, AT_RISK)]
                if urgent:
                    found.append((min(s["due_at"] for s in urgent), case))
        return [case for _, case in sorted(found, key=lambda pair: (pair[0], pair[1]["id"]))]

    def check_slas(self, now: datetime) -> list[dict[str, Any]]:
        """Record a notification for each breach of an open case seen for the first time;
        returns the notifications made."""
        made: list[dict[str, Any]] = []
        with self.db.session() as session:
            rows = session.execute(select(CaseRow).where(CaseRow.status.in_(OPEN))
                                   .order_by(CaseRow.id)).scalars().all()
            known = {(n.case_id, n.kind) for n in session.execute(
                select(NotificationRow).where(NotificationRow.case_id.in_([r.id for r in rows]))
            ).scalars()}
            for row in rows:
                for state in sla_states(case_dict(row), self.cases.sla, now):
                    kind = f"sla.{state.kind}.breached"
                    if not state.breach or (row.id, kind) in known:
                        continue
                    note = NotificationRow(
                        to_role=self.escalate_to, case_id=row.id, kind=kind, created_at=now,
                        message=(f"Case {row.id} ({row.severity}) breached its time to "
                                 f"{state.kind}: due {state.due_at:%Y-%m-%d %H:%M} UTC — "
                                 f"{row.title}"))
                    session.add(note)
                    session.flush()
                    after = {"notification_id": note.id, "to_role": note.to_role,
                             "kind": kind, "due_at": state.due_at.isoformat()}
                    self.audit.append(session, ACTOR, "case.sla_breach", "case", row.id,
                                      None, after)
                    made.append({"case_id": row.id, **after, "message": note.message})
        return made

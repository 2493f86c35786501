"""Triggers: which new alerts, new cases and cron ticks start which playbooks.

The dispatcher keeps a cursor per source in the state database (the last alert id and
case id looked at, the last tick of each schedule) and starts one run per occurrence: the
run's dedup key is unique, so a dispatch repeated after a crash starts nothing twice.
A new data folder starts its cursors at what exists: playbooks act on what happens from
then on, not on the history.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from croniter import CroniterBadCronError, CroniterBadDateError, croniter
from sqlalchemy import func, select

from watchkeeper.alerts.model import AlertRow
from watchkeeper.cases.model import CaseRow
from watchkeeper.errors import WatchkeeperError
from watchkeeper.response.loader import Library, LoadedPlaybook
from watchkeeper.response.model import AlertTrigger, CaseTrigger
from watchkeeper.response.run_model import PlaybookCursorRow, PlaybookRunRow
from watchkeeper.response.runs import RunService, Start
from watchkeeper.state.db import StateDB

log = logging.getLogger(__name__)
BATCH = 500
RESCAN = 100
"""Ids below the cursor looked at again (alerts and cases committed out of id order)."""
DISPATCHER = "system:dispatcher"


def _like(pattern: str, value: Any) -> bool:
    return value is not None and fnmatch.fnmatchcase(str(value).lower(), pattern.lower())


def alert_matches(trigger: AlertTrigger, alert: dict[str, Any]) -> bool:
    """Every condition given holds: a rule (id or title), a level, one of the tags, and
    each entity pattern."""
    if trigger.rules and not any(_like(p, alert.get("rule_id")) or
                                 _like(p, alert.get("rule_title")) for p in trigger.rules):
        return False
    if trigger.levels and alert.get("level") not in trigger.levels:
        return False
    tags = {str(t).lower() for t in alert.get("tags") or []}
    if trigger.tags and not any(any(_like(p, t) for t in tags) for p in trigger.tags):
        return False
    entities = alert.get("entities") or {}
    return all(_like(pattern, entities.get(name)) for name, pattern in trigger.where.items())


def case_matches(trigger: CaseTrigger, case: dict[str, Any]) -> bool:
    if trigger.severities and case.get("severity") not in trigger.severities:
        return False
    tags = {str(t).lower() for t in case.get("tags") or []}
    if trigger.tags and not any(any(_like(p, t) for t in tags) for p in trigger.tags):
        return False
    return trigger.template is None or case.get("template") == trigger.template


def alert_trigger_data(row: AlertRow) -> dict[str, Any]:
    """What ``trigger.alert`` holds in a playbook."""
    return {"id": row.id, "rule_id": row.rule_id, "rule_title": row.rule_title,
            "level": row.level, "tags": list(row.tags or []), "tactics": list(row.tactics or []),
            "entities": dict(row.entities or {}), "risk_score": row.risk_score,
            "first_seen": row.first_seen.isoformat(), "last_seen": row.last_seen.isoformat(),
            "event_count": row.count, "asset_criticality": row.asset_criticality}


def case_trigger_data(row: CaseRow) -> dict[str, Any]:
    return {"id": row.id, "title": row.title, "severity": row.severity,
            "tags": list(row.tags or []), "template": row.template, "status": row.status}


class Dispatcher:
    def __init__(self, db: StateDB, runs: RunService, library: Callable[[], Library],
                 active: Callable[[LoadedPlaybook], bool],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db = db
        self.runs = runs
        self.library = library
        self.active = active
        """Whether a playbook's automatic triggers fire (see ``Response.active``)."""
        self.clock = clock

    def prime(self) -> None:
        """Start the cursors at what exists now (once, for a new data folder), so that
        what happens from now on is dispatched and the history is not."""
        self._cursor("alerts", AlertRow.id)
        self._cursor("cases", CaseRow.id)

    def dispatch(self) -> int:
        """Start the runs new alerts, new cases and due schedules call for; how many."""
        playbooks = [p for p in self.library().playbooks.values() if self.active(p)]
        return self._alerts(playbooks) + self._cases(playbooks) + self._schedules(playbooks)

    def _alerts(self, playbooks: list[LoadedPlaybook]) -> int:
        wanted = [(p, t.alert) for p in playbooks for t in p.playbook.triggers if t.alert]
        return self._new_rows("alert", AlertRow, alert_trigger_data,
                              lambda alert: [p for p, t in wanted if alert_matches(t, alert)])

    def _cases(self, playbooks: list[LoadedPlaybook]) -> int:
        wanted = [(p, t.case) for p in playbooks for t in p.playbook.triggers if t.case]
        return self._new_rows("case", CaseRow, case_trigger_data,
                              lambda case: [p for p, t in wanted if case_matches(t, case)])

    def _new_rows(self, kind: str, model: type[AlertRow] | type[CaseRow],
                  data: Callable[[Any], dict[str, Any]],
                  playbooks_for: Callable[[dict[str, Any]], list[LoadedPlaybook]]) -> int:
        """Start a run of each playbook that a new row (alert or case) matches."""
        last, floor = self._cursor(f"{kind}s", model.id)
        with self.db.read() as session:
            # ids a little below the cursor are looked at again: on PostgreSQL a lower id can
            # commit after a higher one; the runs' keys keep each row to one run
            rows = session.execute(select(model).where(model.id > max(last - RESCAN, floor))
                                   .order_by(model.id).limit(BATCH + RESCAN)).scalars().all()
            found = [data(row) for row in rows]
        starts = [Start(loaded.name, DISPATCHER, kind, {kind: item}, {},
                        **{f"{kind}_id": item["id"]},
                        dedup_key=f"{kind}:{item['id']}:{loaded.name}")
                  for item in found for loaded in playbooks_for(item)]
        started = self._start_new(starts)
        if found and found[-1]["id"] > last:
            self._move(f"{kind}s", found[-1]["id"])
        return started

    def _schedules(self, playbooks: list[LoadedPlaybook]) -> int:
        now = self.clock()
        started = 0
        for loaded in playbooks:
            for index, trigger in enumerate(loaded.playbook.triggers):
                if trigger.schedule is None:
                    continue
                name = f"schedule:{loaded.name}:{index}"
                last = self._tick(name, now)
                try:
                    tick = croniter(trigger.schedule.cron, last).get_next(datetime)
                    if tick > now:
                        continue
                    # ticks missed while nothing ran are not caught up: the latest one fires
                    tick = croniter(trigger.schedule.cron,
                                    now + timedelta(seconds=1)).get_prev(datetime)
                except (CroniterBadDateError, CroniterBadCronError) as error:
                    log.warning("schedule never fires", extra={
                        "playbook": loaded.name, "cron": trigger.schedule.cron,
                        "error": str(error)})
                    continue
                started += self._start(Start(
                    loaded.name, DISPATCHER, "schedule",
                    {"schedule": {"cron": trigger.schedule.cron, "at": tick.isoformat()}}, {},
                    dedup_key=f"{name}:{tick.isoformat()}"))
                self._move(name, None, tick)
        return started

    def _start_new(self, starts: list[Start]) -> int:
        """Start the runs whose keys are not taken yet."""
        if not starts:
            return 0
        with self.db.read() as session:
            taken = set(session.execute(select(PlaybookRunRow.dedup_key).where(
                PlaybookRunRow.dedup_key.in_([s.dedup_key for s in starts]))).scalars())
        return sum(self._start(s) for s in starts if s.dedup_key not in taken)

    def _start(self, start: Start) -> int:
        try:
            return 0 if self.runs.start(start) is None else 1
        except WatchkeeperError as error:
            log.warning("playbook not started", extra={"playbook": start.playbook,
                                                       "error": str(error)})
            return 0

    def _cursor(self, name: str, column: Any) -> tuple[int, int]:
        """The last id looked at, and the lowest id ever to look at (what existed when the
        cursor was made: the history is not dispatched). Read without the write lock;
        written only the first time."""
        with self.db.read() as session:
            row = session.get(PlaybookCursorRow, name)
            floor = session.get(PlaybookCursorRow, f"{name}:floor")
            if row is not None:
                return int(row.last_id or 0), int(floor.last_id or 0) if floor else 0
        with self.db.session() as session:
            row = session.get(PlaybookCursorRow, name)
            floor = session.get(PlaybookCursorRow, f"{name}:floor")
            if row is None:
                start = session.execute(select(func.coalesce(func.max(column), 0))).scalar_one()
                session.add(PlaybookCursorRow(name=name, last_id=start))
                session.add(PlaybookCursorRow(name=f"{name}:floor", last_id=start))
                return int(start), int(start)
            return int(row.last_id or 0), int(floor.last_id or 0) if floor else 0

    def _tick(self, name: str, now: datetime) -> datetime:
        with self.db.read() as session:
            row = session.get(PlaybookCursorRow, name)
            if row is not None:
                return row.last_at or now
        with self.db.session() as session:
            row = session.get(PlaybookCursorRow, name)
            if row is None:
                session.add(PlaybookCursorRow(name=name, last_at=now))
                return now
            return row.last_at or now

    def _move(self, name: str, last_id: int | None, last_at: datetime | None = None) -> None:
        with self.db.session() as session:
            row = session.get(PlaybookCursorRow, name)
            if row is None:
                row = PlaybookCursorRow(name=name)
                session.add(row)
            if last_id is not None:
                row.last_id = last_id
            if last_at is not None:
                row.last_at = last_at

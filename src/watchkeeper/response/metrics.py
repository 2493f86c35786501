"""Per playbook: how often it ran and how it ended, how long runs took and waited for people,
what it did and what was undone, and whether the incidents it handled were resolved faster
than those handled without any playbook (MTTR with against without)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from watchkeeper.cases.model import CaseRow
from watchkeeper.response.run_model import (
    ApprovalRow,
    ContainmentRow,
    PlaybookRunRow,
    PlaybookStepRow,
)
from watchkeeper.state.db import StateDB


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _seconds(start: datetime, end: datetime | None) -> float:
    assert end is not None
    return (end - start).total_seconds()


def playbook_metrics(db: StateDB) -> dict[str, Any]:
    with db.read() as session:
        runs = session.execute(select(
            PlaybookRunRow.id, PlaybookRunRow.playbook, PlaybookRunRow.status,
            PlaybookRunRow.created_at, PlaybookRunRow.finished_at, PlaybookRunRow.case_id,
        )).all()
        waits = session.execute(select(
            ApprovalRow.playbook, ApprovalRow.created_at, ApprovalRow.decided_at,
        ).where(ApprovalRow.decided_at.is_not(None))).all()
        acted = session.execute(
            select(PlaybookRunRow.playbook, func.count())
            .join(PlaybookStepRow, PlaybookStepRow.run_id == PlaybookRunRow.id)
            .where(PlaybookStepRow.kind == "action", PlaybookStepRow.status == "done")
            .group_by(PlaybookRunRow.playbook)).all()
        undone = session.execute(
            select(PlaybookRunRow.playbook, func.count())
            .join(ContainmentRow, ContainmentRow.run_id == PlaybookRunRow.id)
            .where(ContainmentRow.status == "rolled_back")
            .group_by(PlaybookRunRow.playbook)).all()
        resolved = {case_id: _seconds(created, done) for case_id, created, done in
                    session.execute(select(CaseRow.id, CaseRow.created_at, CaseRow.resolved_at)
                                    .where(CaseRow.resolved_at.is_not(None))).all()}
    stats: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "runs": 0, "by_status": defaultdict(int), "durations": [], "approval_waits": [],
        "cases": set()})
    for _, playbook, status, created, finished, case_id in runs:
        entry = stats[playbook]
        entry["runs"] += 1
        entry["by_status"][status] += 1
        if finished is not None:
            entry["durations"].append(_seconds(created, finished))
        if case_id is not None:
            entry["cases"].add(case_id)
    for playbook, asked, decided in waits:
        stats[playbook]["approval_waits"].append(_seconds(asked, decided))
    handled = set().union(*(entry["cases"] for entry in stats.values())) if stats else set()
    without = [seconds for case_id, seconds in resolved.items() if case_id not in handled]
    actions = dict(acted)
    rolled_back = dict(undone)
    playbooks = []
    for name in sorted(stats):
        entry = stats[name]
        with_it = [resolved[c] for c in entry["cases"] if c in resolved]
        playbooks.append({
            "playbook": name, "runs": entry["runs"], "by_status": dict(entry["by_status"]),
            "median_duration_s": _median(entry["durations"]),
            "approval_wait_s": round(sum(entry["approval_waits"]), 3),
            "median_approval_wait_s": _median(entry["approval_waits"]),
            "actions_taken": int(actions.get(name, 0)),
            "rolled_back": int(rolled_back.get(name, 0)),
            "cases_resolved": len(with_it),
            "mttr_s": _median(with_it),
        })
    return {"playbooks": playbooks, "without_playbook": {
        "cases_resolved": len(without), "mttr_s": _median(without)}}

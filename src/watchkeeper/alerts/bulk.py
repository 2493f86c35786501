"""Triage of many alerts at once: acknowledge, close with a verdict, or promote them into
one case. Each alert is changed in its own transaction, so that one that cannot change
(already closed, already in a case, gone) is reported as skipped and the rest go on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from watchkeeper.alerts.service import VERDICTS, AlertService
from watchkeeper.cases.service import SEVERITIES, SEVERITY_OF_LEVEL, NewCase
from watchkeeper.errors import ConflictError, NotFoundError, UsageError

if TYPE_CHECKING:
    from watchkeeper.cases.service import CaseService

ACTIONS = ("acknowledge", "close", "promote")
MAX_IDS = 500
"""More alerts than a page shows (200) and fewer than would hold a request for long."""


@dataclass(frozen=True, slots=True)
class Skipped:
    id: int
    reason: str


@dataclass(frozen=True, slots=True)
class BulkResult:
    """What a bulk action did: the alerts it changed, those it left and why, and the case
    a promotion made."""

    action: str
    changed: list[int] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    case_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action, "changed": self.changed,
            "skipped": [{"id": s.id, "reason": s.reason} for s in self.skipped],
            "case_id": self.case_id,
        }


def check(ids: list[int], action: str, verdict: str | None) -> list[int]:
    """The ids in order without repeats, or a UsageError for a request that cannot work."""
    if action not in ACTIONS:
        raise UsageError(f"unknown action {action!r} (known: {', '.join(ACTIONS)})")
    if action == "close" and verdict not in VERDICTS:
        raise UsageError(f"closing needs a verdict (known: {', '.join(VERDICTS)})")
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise UsageError("select at least one alert")
    if len(unique) > MAX_IDS:
        raise UsageError(f"at most {MAX_IDS} alerts at once")
    return unique


def triage(alerts: AlertService, cases: CaseService, actor: str, ids: list[int], action: str,
           verdict: str | None = None, note: str | None = None) -> BulkResult:
    """Apply ``action`` to every alert of ``ids``; the caller has checked the permissions
    (``alerts:triage``, and ``cases:manage`` to promote)."""
    wanted = check(ids, action, verdict)
    if action == "promote":
        return _promote(alerts, cases, actor, wanted)
    result = BulkResult(action)
    for alert_id in wanted:
        try:
            if action == "acknowledge":
                alerts.acknowledge(alert_id, actor, note)
            else:
                alerts.close(alert_id, actor, str(verdict), note)
        except (ConflictError, NotFoundError) as error:
            result.skipped.append(Skipped(alert_id, error.message))
        else:
            result.changed.append(alert_id)
    return result


def _promote(alerts: AlertService, cases: CaseService, actor: str,
             wanted: list[int]) -> BulkResult:
    """One new case holding every selected alert that exists and is in no case yet."""
    taken: list[dict[str, Any]] = []
    skipped: list[Skipped] = []
    for alert_id in wanted:
        held = cases.case_of_alert(alert_id)
        if held is not None:
            skipped.append(Skipped(alert_id, f"alert {alert_id} is in case {held} already"))
            continue
        try:
            taken.append(alerts.get(alert_id))
        except NotFoundError as error:
            skipped.append(Skipped(alert_id, error.message))
    if not taken:
        return BulkResult("promote", [], skipped)
    case = cases.create(actor, case_for(taken), tuple(a["id"] for a in taken))
    return BulkResult("promote", [a["id"] for a in taken], skipped, int(case["id"]))


def case_for(alerts: list[dict[str, Any]]) -> NewCase:
    """The case of several alerts: titled after the riskiest, as severe as the worst."""
    first = max(alerts, key=lambda a: (a["risk_score"], -a["id"]))
    severity = max((SEVERITY_OF_LEVEL.get(a["level"], "medium") for a in alerts),
                   key=SEVERITIES.index)
    others = len(alerts) - 1
    title = first["rule_title"] + (f" and {others} more alert{'s' if others > 1 else ''}"
                                   if others else "")
    return NewCase(title=title, severity=severity,
                   description="Promoted together from the alert queue: alerts "
                               + ", ".join(f"#{a['id']}" for a in alerts) + ".")

"""SLAs of a case: time to acknowledge, contain and resolve, per severity.

:func:`sla_states` is pure: given a case's times and a policy, it says for each SLA when it
is due and where it stands. A running SLA is *at risk* once less than a quarter of its time
is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from watchkeeper.config import CaseSettings

KINDS = ("acknowledge", "contain", "resolve")
AT_RISK_SHARE = 0.25
MET, MISSED, BREACHED, AT_RISK, ON_TRACK = "met", "missed", "breached", "at_risk", "on_track"
"""Done in time; done late; running and late; running with under 25% left; running."""


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """Minutes allowed per SLA kind and severity."""

    minutes: dict[str, dict[str, int]]

    @classmethod
    def from_settings(cls, settings: CaseSettings) -> SlaPolicy:
        return cls({"acknowledge": dict(settings.sla_acknowledge_minutes),
                    "contain": dict(settings.sla_contain_minutes),
                    "resolve": dict(settings.sla_resolve_minutes)})

    def allowed(self, kind: str, severity: str) -> timedelta:
        return timedelta(minutes=self.minutes[kind][severity])


@dataclass(frozen=True, slots=True)
class SlaState:
    kind: str
    due_at: datetime
    done_at: datetime | None
    state: str

    @property
    def breach(self) -> bool:
        return self.state in (BREACHED, MISSED)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "due_at": self.due_at, "done_at": self.done_at,
                "state": self.state}


def sla_states(case: dict[str, Any], policy: SlaPolicy, now: datetime) -> list[SlaState]:
    """Each SLA of ``case`` (a :func:`case_dict`) at ``now``."""
    created: datetime = case["created_at"]
    done = {
        "acknowledge": case.get("acknowledged_at"),
        "contain": case.get("contained_at") or case.get("resolved_at"),
        "resolve": case.get("resolved_at"),
    }
    found = []
    for kind in KINDS:
        allowed = policy.allowed(kind, case["severity"])
        due = created + allowed
        finished = done[kind]
        if finished is not None:
            state = MET if finished <= due else MISSED
        elif now > due:
            state = BREACHED
        elif due - now <= allowed * AT_RISK_SHARE:
            state = AT_RISK
        else:
            state = ON_TRACK
        found.append(SlaState(kind, due, finished, state))
    return found

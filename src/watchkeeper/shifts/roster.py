"""The roster as plain values, and which shift is on duty at a given time (pure: no clock,
no database). Times of day are UTC; a shift belongs to the weekday it starts on."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from watchkeeper.errors import UsageError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,49}")
CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
MAX_SHIFTS = 50
MAX_MEMBERS = 200


@dataclass(frozen=True, slots=True)
class Shift:
    name: str
    start: time
    end: time
    weekdays: tuple[str, ...] = ()
    """Empty: every day."""
    members: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
            "weekdays": list(self.weekdays),
            "members": list(self.members),
        }

    def occurrence(self, day: date) -> tuple[datetime, datetime]:
        """The shift's window when it starts on ``day``; an end at or before the start is
        on the next day (``start == end``: a 24-hour shift)."""
        begin = datetime.combine(day, self.start, UTC)
        finish = datetime.combine(day, self.end, UTC)
        if finish <= begin:
            finish += timedelta(days=1)
        return begin, finish

    def runs_on(self, day: date) -> bool:
        return not self.weekdays or WEEKDAYS[day.weekday()] in self.weekdays

    def window_at(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The occurrence that contains ``at``, if any."""
        moment = at.astimezone(UTC)
        for day in (moment.date(), moment.date() - timedelta(days=1)):
            begin, finish = self.occurrence(day)
            if self.runs_on(day) and begin <= moment < finish:
                return begin, finish
        return None

    def last_start(self, at: datetime) -> datetime | None:
        """When the latest occurrence that started at or before ``at`` began (a week back)."""
        moment = at.astimezone(UTC)
        for back in range(8):
            day = moment.date() - timedelta(days=back)
            begin, _ = self.occurrence(day)
            if self.runs_on(day) and begin <= moment:
                return begin
        return None


@dataclass(frozen=True, slots=True)
class OnDuty:
    shift: Shift
    start: datetime
    end: datetime


def current_shift(roster: Iterable[Shift], at: datetime) -> OnDuty | None:
    """The shift on duty at ``at``; where shifts overlap, the one that started last."""
    found = [
        OnDuty(shift, *window) for shift in roster
        if (window := shift.window_at(at)) is not None
    ]
    if not found:
        return None
    return max(found, key=lambda duty: (duty.start, duty.shift.name))


def parse_shift(item: Mapping[str, Any]) -> Shift:
    """A shift from JSON data, or a UsageError that names the field."""
    name = str(item.get("name", "")).strip().lower()
    if not NAME.fullmatch(name):
        raise UsageError(f"shift name {name!r} must be 1–50 of a-z, 0-9, '-' and '_'")
    start, end = _clock(item.get("start"), name, "start"), _clock(item.get("end"), name, "end")
    weekdays = _strings(item.get("weekdays", []), name, "weekdays")
    unknown = [d for d in weekdays if d not in WEEKDAYS]
    if unknown:
        raise UsageError(f"shift {name}: unknown weekday {unknown[0]!r} "
                         f"(known: {', '.join(WEEKDAYS)})")
    members = _strings(item.get("members", []), name, "members")
    if len(members) > MAX_MEMBERS or any(not m or len(m) > 200 for m in members):
        raise UsageError(f"shift {name}: at most {MAX_MEMBERS} members of 1–200 characters")
    ordered = tuple(d for d in WEEKDAYS if d in weekdays)
    return Shift(name, start, end, ordered, tuple(dict.fromkeys(members)))


def parse_roster(items: Sequence[Mapping[str, Any]]) -> list[Shift]:
    if len(items) > MAX_SHIFTS:
        raise UsageError(f"a roster has at most {MAX_SHIFTS} shifts")
    shifts = [parse_shift(item) for item in items]
    names = [s.name for s in shifts]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise UsageError(f"shift {duplicate!r} is named twice")
    return shifts


def _clock(value: Any, name: str, field: str) -> time:
    match = CLOCK.fullmatch(str(value or "").strip())
    if match is None:
        raise UsageError(f"shift {name}: {field} must be HH:MM (UTC), not {value!r}")
    return time(int(match[1]), int(match[2]))


def _strings(value: Any, name: str, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"shift {name}: {field} must be a list of strings")
    return [v.strip().lower() if field == "weekdays" else v.strip() for v in value]

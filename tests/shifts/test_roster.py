"""Which shift is on duty: a pure function of the roster and a time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from watchkeeper.errors import UsageError
from watchkeeper.shifts.roster import current_shift, parse_roster

ROSTER = parse_roster([
    {"name": "day", "start": "08:00", "end": "20:00", "weekdays": ["mon", "tue", "wed", "thu",
                                                                   "fri"]},
    {"name": "night", "start": "20:00", "end": "08:00", "members": ["bob", "bob", "eve"]},
])


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)  # 2026-11-23 is a Monday


@pytest.mark.parametrize(("moment", "name", "start", "end"), [
    (at(23, 8), "day", at(23, 8), at(23, 20)),
    (at(23, 19, 59), "day", at(23, 8), at(23, 20)),
    (at(23, 20), "night", at(23, 20), at(24, 8)),
    (at(24, 0), "night", at(23, 20), at(24, 8)),  # across midnight: began the day before
    (at(24, 7, 59), "night", at(23, 20), at(24, 8)),
])
def test_the_shift_on_duty(moment: datetime, name: str, start: datetime, end: datetime) -> None:
    duty = current_shift(ROSTER, moment)
    assert duty is not None
    assert (duty.shift.name, duty.start, duty.end) == (name, start, end)


def test_no_shift_on_a_day_off() -> None:
    assert current_shift(ROSTER, at(28, 12)) is None  # Saturday noon: the day shift is off
    duty = current_shift(ROSTER, at(29, 3))  # Sunday night shift, started Saturday
    assert duty is not None
    assert duty.start == at(28, 20)


def test_a_shift_only_on_fridays_still_covers_saturday_morning() -> None:
    [friday] = parse_roster([{"name": "f", "start": "22:00", "end": "06:00",
                              "weekdays": ["fri"]}])
    assert current_shift([friday], at(28, 5)) is not None
    assert current_shift([friday], at(29, 5)) is None
    assert friday.last_start(at(29, 5)) == at(27, 22)


def test_overlapping_shifts_the_later_start_wins_and_members_are_unique() -> None:
    roster = [*ROSTER, *parse_roster([{"name": "late", "start": "18:00", "end": "22:00"}])]
    duty = current_shift(roster, at(23, 19))
    assert duty is not None
    assert duty.shift.name == "late"
    assert ROSTER[1].members == ("bob", "eve")


@pytest.mark.parametrize(("item", "message"), [
    ({"name": "Bad Name", "start": "08:00", "end": "09:00"}, "shift name"),
    ({"name": "x", "start": "24:00", "end": "09:00"}, "start must be HH:MM"),
    ({"name": "x", "start": "08:00", "end": "9"}, "end must be HH:MM"),
    ({"name": "x", "start": "08:00", "end": "09:00", "weekdays": ["funday"]}, "unknown weekday"),
    ({"name": "x", "start": "08:00", "end": "09:00", "members": "bob"}, "list of strings"),
])
def test_bad_shifts_are_refused_with_the_field(item: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_roster([item])


def test_a_name_twice_is_refused() -> None:
    item = {"name": "x", "start": "08:00", "end": "09:00"}
    with pytest.raises(UsageError, match="named twice"):
        parse_roster([item, item])
